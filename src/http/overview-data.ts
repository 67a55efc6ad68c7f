import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Queue } from 'bullmq';
import type { Envelope } from '../event/build-event.js';
import { readableJobs } from '../queue/readable-jobs.js';
import { readQuarantine, type QuarantineItem } from './study-quarantine.js';
import { shellWord } from '../util/shell-word.js';

export interface SinkQueue {
  sink: string;
  queue: Queue;
}

/** One event as the dashboard lists it: where it went, by sink. */
export interface EventRow {
  id: string;
  type: string;
  platform: string;
  namespace: string;
  participantid: string | undefined;
  receivedat: string;
  delivered: string[];
  pending: string[];
  failed: string[];
}

/** A dead letter: the event, the sink, its error, and where Bull Board shows the job. */
export interface Failure {
  eventId: string;
  jobId: string;
  sink: string;
  type: string;
  platform: string;
  namespace: string;
  receivedat: string;
  failedAt: string;
  attempts: number;
  error: string;
  board: string;
  replay: string;
}

const boardLink = (queue: Queue, jobId: string) =>
  `/admin/queues/queue/${encodeURIComponent(queue.name)}/${encodeURIComponent(jobId)}`;

/**
 * Recent events read back from the sink queues (a delivered job is kept an hour, a dead letter until
 * replayed), newest first. why by list: a job's state is the list it is in, not a leftover
 * `failedReason`, so a dead letter that was replayed and then delivered shows as delivered.
 */
export async function recentEvents(
  queues: readonly SinkQueue[],
  limit: number,
  match?: (row: EventRow) => boolean,
): Promise<EventRow[]> {
  const byId = new Map<string, EventRow>();
  const lists = [
    ['delivered', ['completed']],
    ['failed', ['failed']],
    ['pending', ['waiting', 'active', 'delayed', 'prioritized']],
  ] as const;
  for (const { sink, queue } of queues) {
    for (const [state, types] of lists) {
      for (const job of await readableJobs(queue, [...types], 0, limit * 4)) {
        const e = (job?.data as Envelope | undefined)?.event;
        if (!e) continue;
        const row = byId.get(e.id) ?? {
          id: e.id,
          type: e.type,
          platform: e.platform,
          namespace: e.namespace,
          participantid: e.participantid,
          receivedat: e.receivedat,
          delivered: [],
          pending: [],
          failed: [],
        };
        if (!row[state].includes(sink)) row[state].push(sink);
        byId.set(e.id, row);
      }
    }
  }
  const rows = [...byId.values()].filter((r) => !match || match(r));
  return rows.sort((a, b) => b.receivedat.localeCompare(a.receivedat)).slice(0, limit);
}

/** The dead letters of every sink, newest first, each with its error and the command that replays it. */
export async function failures(queues: readonly SinkQueue[], limit: number): Promise<Failure[]> {
  const out: Failure[] = [];
  for (const { sink, queue } of queues) {
    for (const job of await readableJobs(queue, ['failed'], 0, limit - 1)) {
      const e = (job?.data as Envelope | undefined)?.event;
      if (!job.id || !e) continue;
      out.push({
        eventId: e.id,
        jobId: job.id,
        sink,
        type: e.type,
        platform: e.platform,
        namespace: e.namespace,
        receivedat: e.receivedat,
        failedAt: new Date(job.finishedOn ?? job.timestamp).toISOString(),
        attempts: job.attemptsMade,
        error: job.failedReason ?? '',
        board: boardLink(queue, job.id),
        // why: the page offers this for pasting into a shell, and an event id can be what the sender
        // said it was (Prolific's X-Event-ID, which its signature does not cover): quoted, it stays one word.
        replay: `studyhook replay --sink ${shellWord(sink)} --id ${shellWord(e.id)}`,
      });
    }
  }
  return out.sort((a, b) => b.failedAt.localeCompare(a.failedAt)).slice(0, limit);
}

/** Quarantined payloads of every platform and namespace, newest first, with the command that republishes them. */
export async function quarantined(
  dataDir: string,
  limit: number,
): Promise<(QuarantineItem & { republish: string })[]> {
  const root = join(dataDir, 'quarantine');
  const dirs = async (d: string) =>
    (await readdir(d, { withFileTypes: true }).catch(() => []))
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
  const items: QuarantineItem[] = [];
  for (const platform of await dirs(root)) {
    for (const namespace of await dirs(join(root, platform)))
      items.push(...(await readQuarantine(dataDir, { [platform]: namespace }, limit)));
  }
  return items
    .sort((a, b) => b.receivedat.localeCompare(a.receivedat))
    .slice(0, limit)
    .map((q) => ({
      ...q,
      republish: `studyhook quarantine republish --platform ${q.platform} --namespace ${q.namespace}`,
    }));
}
