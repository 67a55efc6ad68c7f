import type { ResolvedConfig } from '../../src/config/load-config.js';
import { jobIdOf, type Envelope } from '../../src/event/build-event.js';
import { createPublisher } from '../../src/queue/publisher.js';
import { assertRedisReachable, openQueue } from '../../src/queue/redis.js';
import type { ParticipantRow } from '../../src/study/types.js';
import { studyhookEvent } from '../../src/study/record-event.js';
import type { StudyDef } from '../../src/study/types.js';
import { StudyError } from '../../src/study/study-error.js';
import { approvalPlan, overdue, RESEND_AFTER_MS, type ApprovalItem } from './approval-plan.js';
import { ApprovalStopped, approveInBatches } from './approve.js';
import { createProlificClient, type ProlificClientOptions } from './client.js';
import { APPROVED_TYPE } from './study-facts.js';

export interface ApproveOptions {
  config: ResolvedConfig;
  study: StudyDef;
  participants: readonly ParticipantRow[];
  /** False: print the plan only (the default of the command). */
  yes: boolean;
  batchSize: number;
  token?: string | undefined;
  baseUrl?: string | undefined;
  out: (line: string) => void;
}

/** The event that records one approval: `studyhook.submission.approved`, id from the submission (so recorded once). */
export function approvalEvent(study: StudyDef, item: ApprovalItem, batch: number): Envelope {
  return studyhookEvent(
    'prolific',
    study.namespaces['prolific']!,
    {
      type: APPROVED_TYPE,
      key: [item.submission],
      subject: item.submission,
      participantid: item.participant,
      data: {
        submission_id: item.submission,
        participant_id: item.participant,
        study: study.name,
        action: 'APPROVE',
        reason: item.why,
        batch,
        by: 'studyhook study approve',
      },
    },
    'study-approve',
  );
}

/**
 * Approvals recorded but not yet in the archive (its sink has the job): not approved again.
 * why: the archive sink writes a moment after the record is published, so a second run right after the first reads an archive without it.
 */
async function recordedNotArchived(
  config: ResolvedConfig,
  envelopes: readonly Envelope[],
): Promise<Set<string>> {
  const archive = config.sinks.find((s) => s.use === 'filesystem');
  const out = new Set<string>();
  if (!archive) return out;
  const queue = openQueue(archive.name, config.redis.url, config.redis.prefix);
  queue.on('error', () => undefined);
  try {
    const jobs = await Promise.all(envelopes.map((e) => queue.getJob(jobIdOf(e.event.id))));
    jobs.forEach((job, i) => {
      if (job) out.add(envelopes[i]!.event.subject!);
    });
  } finally {
    await queue.close();
  }
  return out;
}

/** `study approve`: prints the plan; with `yes`, approves in batches and records each approval as an event. Returns the exit code. */
export async function runApprove(o: ApproveOptions): Promise<number> {
  const { study, out } = o;
  if (!Object.hasOwn(study.namespaces, 'prolific'))
    throw new StudyError(
      `study '${study.name}' has no Prolific namespace: there is nothing to approve`,
    );
  const plan = approvalPlan(o.participants);
  out(
    `${o.yes ? 'approving' : 'plan (dry run, nothing is changed)'}: ${plan.approve.length} submission(s) AWAITING REVIEW whose participant is complete`,
  );
  for (const a of plan.approve)
    out(`  approve ${a.submission}  participant ${a.participant}: ${a.why}`);
  if (plan.held.length)
    out(
      `left for you: ${plan.held.length} submission(s) AWAITING REVIEW whose participant is not complete, or has several submissions (studyhook never rejects)`,
    );
  for (const h of plan.held)
    out(
      `  keep    ${h.submission}  participant ${h.participant}: ${h.classification}${h.missing.length ? `: ${h.missing.join('; ')}` : ''}`,
    );
  const again = overdue(plan, Date.now());
  if (plan.alreadyApproved)
    out(
      `already approved by studyhook: ${plan.alreadyApproved} (the archive still says AWAITING REVIEW until Prolific's webhook arrives)${again.length ? `; ${again.length} recorded over ${RESEND_AFTER_MS / 60_000} min ago: --yes reads them from Prolific and sends again those still AWAITING REVIEW there` : ''}`,
    );
  if (!o.yes) {
    if (plan.approve.length)
      out(`to approve these ${plan.approve.length}: studyhook study approve ${study.name} --yes`);
    return 0;
  }
  if (plan.approve.length === 0 && again.length === 0) return 0;
  const client = o.config.platforms['prolific']?.client as ProlificClientOptions | undefined;
  const token = o.token ?? client?.token;
  if (!token)
    throw new StudyError(
      'no Prolific API token (--token, or platforms.prolific.client.token in the config, e.g. ${PROLIFIC_TOKEN})',
    );
  const api = createProlificClient({
    ...client,
    token,
    ...(o.baseUrl !== undefined && { baseUrl: o.baseUrl }),
  });
  await assertRedisReachable(o.config.redis.url);
  const skip = await recordedNotArchived(
    o.config,
    plan.approve.map((a) => approvalEvent(study, a, 0)),
  );
  const todo = [...plan.approve.filter((a) => !skip.has(a.submission)), ...again];
  const recorded = new Set(again.map((a) => a.submission));
  if (skip.size)
    out(`already approved by an earlier run (recorded, not yet archived): ${skip.size}`);
  const byId = new Map(todo.map((a) => [a.submission, a]));
  const publisher = createPublisher({
    redisUrl: o.config.redis.url,
    prefix: o.config.redis.prefix,
    sinks: o.config.sinks,
    dedupTtlSeconds: o.config.dedupTtlSeconds,
    timeoutMs: o.config.server.publishTimeoutMs,
  });
  let notSent = 0;
  try {
    const approved = await approveInBatches(
      api,
      todo,
      o.batchSize,
      async (batch, i) => {
        await publisher.publish(batch.map((id) => approvalEvent(study, byId.get(id)!, i + 1)));
        out(
          `batch ${i + 1}: approved ${batch.length} submission(s) on Prolific and recorded them (${APPROVED_TYPE})`,
        );
      },
      (item, why) => {
        // why: a recorded approval Prolific has done, whose webhook the archive lacks, is no news.
        if (recorded.has(item.submission) && why === 'Prolific says APPROVED') return;
        notSent += 1;
        out(`  not sent: ${item.submission}  participant ${item.participant}: ${why}`);
      },
    );
    out(
      `approved ${approved.length} submission(s)${notSent ? `; ${notSent} not sent, as Prolific no longer has them AWAITING REVIEW (the archive lags behind; not recorded, so a later run looks again)` : ''}`,
    );
    return 0;
  } catch (err) {
    if (!(err instanceof ApprovalStopped)) throw err;
    out(
      `stopped: approved ${err.approved.length} of ${todo.length} submission(s) before this failed: ${(err.cause as Error)?.message ?? String(err.cause)}`,
    );
    out(`the ones approved are recorded; run the same command again to continue with the rest`);
    return 1;
  } finally {
    await publisher.close();
  }
}
