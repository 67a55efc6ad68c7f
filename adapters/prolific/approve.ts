import { ProlificApiError, type ProlificClient } from './client.js';

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

/** One submission to approve and the participant the archive links it to. */
export interface ToApprove {
  submission: string;
  participant: string;
}

/**
 * Why Prolific's own record of a submission forbids approving it now, or undefined when it is
 * AWAITING REVIEW for that participant. why: the archive can be behind Prolific (a RETURNED,
 * TIMED-OUT or REJECTED webhook lost or still being retried, an approval or rejection made on
 * Prolific's site, events out of order), and bulk-approve answers "in progress" whatever it does.
 */
export async function refusal(
  client: Pick<ProlificClient, 'getSubmission'>,
  item: ToApprove,
): Promise<string | undefined> {
  let s: Record<string, unknown>;
  try {
    s = await client.getSubmission(item.submission);
  } catch (err) {
    // why: a submission Prolific does not know (a test run, another workspace's) must not stop every later run at it.
    if (err instanceof ProlificApiError && err.status === 404)
      return 'Prolific answered 404 (no such submission)';
    throw err;
  }
  if (s['status'] !== 'AWAITING REVIEW') return `Prolific says ${String(s['status'])}`;
  const who = s['participant'] ?? s['participant_id'];
  if (who !== undefined && who !== item.participant)
    return `Prolific names participant ${String(who)}, not ${item.participant}`;
  return undefined;
}

/**
 * Approves submissions through Prolific's bulk endpoint (`POST /api/v1/submissions/bulk-approve/`),
 * `batchSize` at a time (docs: managing-high-loads recommends the bulk endpoints; 429s are retried by
 * the client). Right before each batch, each submission is read from Prolific and one it does not
 * have AWAITING REVIEW for that participant is left out and handed to `notSent` (not recorded, so a
 * later run looks again). After each batch Prolific accepted, `afterBatch` runs (recording it)
 * before the next one is sent. A failure stops at once with {@link ApprovalStopped}, which says what
 * was approved.
 */
export async function approveInBatches(
  client: Pick<ProlificClient, 'bulkApprove' | 'getSubmission'>,
  items: readonly ToApprove[],
  batchSize: number,
  afterBatch: (batch: string[], index: number) => Promise<void>,
  notSent: (item: ToApprove, why: string) => void = () => undefined,
): Promise<string[]> {
  const approved: string[] = [];
  let index = 0;
  for (let i = 0; i < items.length; i += batchSize) {
    const batch: string[] = [];
    try {
      for (const item of items.slice(i, i + batchSize)) {
        const why = await refusal(client, item);
        if (why === undefined) batch.push(item.submission);
        else notSent(item, why);
      }
      if (batch.length === 0) continue;
      await client.bulkApprove({ submission_ids: batch });
    } catch (err) {
      throw new ApprovalStopped(approved, err);
    }
    approved.push(...batch);
    try {
      await afterBatch(batch, index++);
    } catch (err) {
      throw new ApprovalStopped(approved, err);
    }
  }
  return approved;
}
