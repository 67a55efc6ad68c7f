import { readFile, readdir } from 'node:fs/promises';
import { buffer } from 'node:stream/consumers';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { Envelope, StudyhookEvent } from '../../src/event/build-event.js';
import { sinkQueueName } from '../../src/queue/redis.js';
import type { QuarantineRecord } from '../../src/quarantine/quarantine.js';
import { REDIS_URL, type TestGateway } from './gateway.js';

/** A kept record with the bytes its `body` refers to (from the real blob store). */
export interface Kept {
  record: QuarantineRecord;
  body: Buffer | undefined;
}

/** Every record under `<dataDir>/quarantine/<platform>/<namespace>/`, oldest first, with its kept bytes. */
export async function readQuarantine(
  t: TestGateway,
  platform: string,
  namespace: string,
): Promise<Kept[]> {
  const dir = join(t.dataDir, 'quarantine', platform, namespace);
  const files = (await readdir(dir).catch(() => [] as string[]))
    .filter((f) => f.endsWith('.jsonl'))
    .sort();
  const out: Kept[] = [];
  for (const f of files) {
    for (const line of (await readFile(join(dir, f), 'utf8')).split('\n')) {
      if (!line) continue;
      const record = JSON.parse(line) as QuarantineRecord;
      out.push({
        record,
        body: record.body ? await buffer(t.gateway.blobs.open(record.body)) : undefined,
      });
    }
  }
  return out;
}

/** What the jobs of a sink's queue hold (a gateway without workers leaves them waiting), oldest first. */
export async function queuedEnvelopes(prefix: string, sink: string): Promise<Envelope[]> {
  const queue = new Queue(sinkQueueName(sink), { connection: { url: REDIS_URL } as never, prefix });
  try {
    const jobs = await queue.getJobs(
      ['waiting', 'active', 'completed', 'failed', 'delayed', 'prioritized'],
      0,
      -1,
      true,
    );
    return jobs.map((j) => j.data as Envelope);
  } finally {
    await queue.close();
  }
}

/** The events of {@link queuedEnvelopes}. */
export async function queuedEvents(prefix: string, sink: string): Promise<StudyhookEvent[]> {
  return (await queuedEnvelopes(prefix, sink)).map((e) => e.event);
}
