import type { ProlificClient } from './client.js';

/** What a batched approval got done before it stopped. */
export class ApprovalStopped extends Error {
  override name = 'ApprovalStopped';
  constructor(
    readonly approved: string[],
    override readonly cause: unknown,
  ) {
    super(
      `stopped after approving ${approved.length} submission(s): ${(cause as Error)?.message ?? String(cause)}`,
    );
  }
}

/**
 * Approves submissions through Prolific's bulk endpoint (`POST /api/v1/submissions/bulk-approve/`),
 * `batchSize` at a time (docs: managing-high-loads recommends the bulk endpoints; 429s are retried by
 * the client). After each batch Prolific accepted, `afterBatch` runs (recording it) before the next
 * one is sent. A failure stops at once with {@link ApprovalStopped}, which says what was approved.
 */
export async function approveInBatches(
  client: Pick<ProlificClient, 'bulkApprove'>,
  ids: readonly string[],
  batchSize: number,
  afterBatch: (batch: string[], index: number) => Promise<void>,
): Promise<string[]> {
  const approved: string[] = [];
  for (let i = 0; i < ids.length; i += batchSize) {
    const batch = ids.slice(i, i + batchSize);
    try {
      await client.bulkApprove({ submission_ids: batch });
    } catch (err) {
      throw new ApprovalStopped(approved, err);
    }
    approved.push(...batch);
    try {
      await afterBatch(batch, i / batchSize);
    } catch (err) {
      throw new ApprovalStopped(approved, err);
    }
  }
  return approved;
}
