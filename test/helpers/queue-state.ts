import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { sinkQueueName } from '../../src/queue/redis.js';
import { REDIS_URL, waitFor } from './gateway.js';

/** A gateway's queues: its key prefix, and its Redis when that is not the shared test Redis. */
export interface Where {
  prefix: string;
  redisUrl?: string;
}

export interface QueueState {
  jobs: number;
  pending: number;
  completed: number;
  failed: number;
}

/**
 * The jobs in one sink's queue of a test gateway. Read right after a 2xx, this is final: the API
 * acknowledges only once every job of the event is in Redis (and a duplicate adds none).
 */
export async function queueState(t: Where, sink: string): Promise<QueueState> {
  const connection = new Redis(t.redisUrl ?? REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(sinkQueueName(sink, t.prefix), { connection, prefix: t.prefix });
  try {
    const c = await queue.getJobCounts(
      'waiting',
      'active',
      'delayed',
      'prioritized',
      'waiting-children',
      'completed',
      'failed',
    );
    const pending =
      (c['waiting'] ?? 0) +
      (c['active'] ?? 0) +
      (c['delayed'] ?? 0) +
      (c['prioritized'] ?? 0) +
      (c['waiting-children'] ?? 0);
    const completed = c['completed'] ?? 0;
    const failed = c['failed'] ?? 0;
    return { jobs: pending + completed + failed, pending, completed, failed };
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

/**
 * Resolves once every job of the sink's queue has finished (completed or failed for good): after
 * that no delivery of these jobs can still arrive, so what the sink received is final.
 */
export function settled(t: Where, sink: string, timeoutMs?: number): Promise<QueueState> {
  return waitFor(
    `every job of ${sink} finished`,
    async () => {
      const s = await queueState(t, sink);
      return s.pending === 0 && s;
    },
    timeoutMs,
  );
}
