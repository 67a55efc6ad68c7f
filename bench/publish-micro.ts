// Redis-side cost of one publish, without HTTP: `queue.add()` (the skeletons) versus what the
// publisher does (FlowProducer.addBulk with jobId + deduplication). 50 in flight, same process.
// Usage: tsx bench/publish-micro.ts [seconds=3]
import { randomUUID } from 'node:crypto';
import { FlowProducer, Queue } from 'bullmq';
import { deleteKeys, REDIS_URL } from '../test/helpers/gateway.js';
import { sensorLoggerBody } from './scenarios.js';

const seconds = Number(process.argv[2] ?? 3);
const u = new URL(REDIS_URL);
const connection = { host: u.hostname, port: Number(u.port || 6379) };
const prefix = `{bench-micro-${randomUUID().slice(0, 8)}}`;

async function rate(name: string, add: () => Promise<unknown>): Promise<void> {
  let n = 0;
  const end = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      while (Date.now() < end) {
        await add();
        n++;
      }
    }),
  );
  console.log(`${name.padEnd(44)} ${(n / seconds).toFixed(0).padStart(6)} adds/s`);
}

const queue = new Queue('micro', { connection, prefix });
const flow = new FlowProducer({ connection, prefix });
const data = (): unknown => JSON.parse(sensorLoggerBody());
const opts = (id: string): Record<string, unknown> => ({
  jobId: id,
  deduplication: { id, ttl: 7 * 86400000 },
  attempts: 8,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 3600, count: 10000 },
  removeOnFail: false,
});
try {
  await rate('queue.add (skeletons)', () => queue.add('e', data(), { removeOnComplete: true }));
  await rate('queue.add + jobId + deduplication', () => {
    const id = randomUUID();
    return queue.add('e', data(), opts(id));
  });
  await rate('FlowProducer.addBulk, 1 job (publisher)', () => {
    const id = randomUUID();
    return flow.addBulk([{ name: 'e', queueName: 'micro', data: data(), opts: opts(id) }]);
  });
  await rate('queue.addBulk, 1 job + jobId + dedup', () => {
    const id = randomUUID();
    return queue.addBulk([{ name: 'e', data: data(), opts: opts(id) }]);
  });
} finally {
  await queue.close();
  await flow.close();
  await deleteKeys(prefix);
}
