import { readdir } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Queue } from 'bullmq';
import type { ResolvedSink } from '../config/load-config.js';
import { jobIdOf, type Envelope, type StudyhookEvent } from '../event/build-event.js';
import { compileFilter } from '../event/filter.js';
import { jobOptions } from './job-options.js';
import { readJsonLines, type BadLine } from '../util/read-lines.js';
import { openQueue as openSinkQueue } from './redis.js';

/** Which events to replay: by event id and by the time the gateway received them (ISO, inclusive). */
export interface ReplaySelection {
  ids?: readonly string[];
  since?: Date;
  until?: Date;
}

export interface ReplayTarget {
  redisUrl: string;
  prefix: string;
  sink: ResolvedSink;
  dryRun?: boolean;
}

function selects(sel: ReplaySelection, event: StudyhookEvent | undefined): boolean {
  if (!event) return false;
  const at = Date.parse(event.receivedat);
  return (
    (!sel.ids?.length || sel.ids.includes(event.id)) &&
    (!sel.since || at >= sel.since.getTime()) &&
    (!sel.until || at <= sel.until.getTime())
  );
}

function openQueue(t: ReplayTarget): Queue<Envelope> {
  return openSinkQueue<Envelope>(t.sink.name, t.redisUrl, t.prefix);
}

/** What a dead-letter replay did: re-queued, and the failed jobs it could not read (id and why). */
export interface DeadLetterReplay {
  requeued: number;
  unreadable: { jobId: string; error: string }[];
}

/**
 * Moves a sink's selected dead letters back to its queue with fresh attempts; the running workers
 * deliver them. Each job is read on its own, so that one whose data cannot be parsed (hand-edited,
 * or written by something else) is reported instead of ending the replay of all the others, as
 * BullMQ's getFailed did (it parses every job and throws on the first bad one).
 */
export async function replayDeadLetters(
  t: ReplayTarget,
  sel: ReplaySelection,
): Promise<DeadLetterReplay> {
  const queue = openQueue(t);
  const out: DeadLetterReplay = { requeued: 0, unreadable: [] };
  try {
    // why: read the whole failed set first; retrying shrinks it and would shift any page window.
    const ids = await queue.getRanges(['failed'], 0, -1);
    const client = await queue.getBackend().client;
    for (const id of ids) {
      let job;
      try {
        job = await queue.getJob(id);
      } catch (err) {
        out.unreadable.push({ jobId: id, error: (err as Error).message });
        continue;
      }
      if (!job || !selects(sel, job.data?.event)) continue;
      if (t.dryRun) {
        out.requeued += 1;
        continue;
      }
      // why: BullMQ never resets a job's stall count ('stc'); a dead letter that stalled out (a sink
      // that crashed its worker) would, after the fix and this replay, become a dead letter again at
      // its first stall (a deploy, a SIGKILL). Fresh attempts include a fresh stall allowance. The job
      // is in the failed set, so no worker touches it meanwhile.
      await client.hdel(queue.toKey(id), 'stc');
      try {
        await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        out.requeued += 1;
      } catch (err) {
        // why: another replay running at the same time moved it first (BullMQ's check is atomic, so
        // it is queued once); only a job still failed is an error of ours.
        if ((await queue.getJobState(id)) === 'failed') throw err;
      }
    }
    return out;
  } finally {
    await queue.close();
  }
}

async function* jsonlFiles(dir: string): AsyncGenerator<string> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (e.isDirectory()) yield* jsonlFiles(join(dir, e.name));
    else if (e.name.endsWith('.jsonl')) yield join(dir, e.name);
  }
}

// why: archive files are named after the UTC day received, so whole days outside the range are skipped unread.
function dayInRange(file: string, sel: ReplaySelection): boolean {
  const day = basename(file, '.jsonl');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return true;
  return (
    (!sel.since || day >= sel.since.toISOString().slice(0, 10)) &&
    (!sel.until || day <= sel.until.toISOString().slice(0, 10))
  );
}

/**
 * Queues archived events that match the sink's filter, under the same job id and dedup key as live
 * traffic: an event the sink already has (job kept, or dedup key within `dedupTtlSeconds`) is skipped.
 */
export async function replayArchive(
  t: ReplayTarget,
  archiveDir: string,
  dedupTtlSeconds: number,
  sel: ReplaySelection,
): Promise<{ queued: number; skipped: number; bad: BadLine[] }> {
  const matches = compileFilter(t.sink.filter);
  const queue = openQueue(t);
  let queued = 0;
  let skipped = 0;
  const bad: BadLine[] = [];
  try {
    for await (const file of jsonlFiles(archiveDir)) {
      if (!dayInRange(file, sel)) continue;
      // why: a torn or corrupt line (a full disk, a crash) is reported and skipped, never the end of the replay.
      for await (const { value: event } of readJsonLines<StudyhookEvent>(file, (b) =>
        bad.push(b),
      )) {
        if (!event || typeof event !== 'object' || typeof event.id !== 'string') continue;
        if (!selects(sel, event) || !matches(event)) continue;
        const jobId = jobIdOf(event.id);
        if ((await queue.getJob(jobId)) || (await queue.getDeduplicationJobId(jobId))) {
          skipped += 1;
          continue;
        }
        queued += 1;
        if (t.dryRun) continue;
        // why: the archive keeps the event, not the request nor its secrets; sinks get an empty ctx.secrets.
        const request = {
          method: 'REPLAY',
          path: `archive:${file}`,
          headers: {},
          bodySize: 0,
          ip: '',
        };
        // why: data kept in the blob store stays there; the queue gets the reference, as live traffic does.
        if (typeof event.dataref === 'string') event.data = null;
        await queue.add(
          event.type,
          { event, request },
          jobOptions(t.sink, event.id, dedupTtlSeconds),
        );
      }
    }
    return { queued, skipped, bad };
  } finally {
    await queue.close();
  }
}
