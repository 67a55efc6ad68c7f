import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

export const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/**
 * The run's tag, set by the global setup (test/helpers/mocha-setup.ts) and inherited by parallel
 * workers and spawned processes. Read at each call: test files load before the global setup runs.
 */
export function runTag(): string {
  process.env['STUDYHOOK_TEST_RUN'] ??= randomBytes(4).toString('hex');
  return process.env['STUDYHOOK_TEST_RUN'];
}

/**
 * A fresh Redis key prefix for one test's gateway or queues on the shared Redis:
 * `{sh-<run>-<name>-<random>}`. why the run tag: the shared Redis may hold many other keys (a
 * developer's, a benchmark's), and scanning all of them for each test cost up to a second per
 * gateway; the run's keys are removed with one scan at its end instead (`removeRunKeys`).
 */
export function testPrefix(name = 'test'): string {
  return `{sh-${runTag()}-${name}-${randomBytes(4).toString('hex')}}`;
}

/** Removes every key of this run's prefixes from the shared Redis (the global teardown). */
export async function removeRunKeys(): Promise<number> {
  return deleteMatching(`{sh-${runTag()}-*`);
}

/**
 * Removes every key of one prefix now. Only for a prefix that a test reuses and must find empty
 * again: it scans the whole keyspace, which is slow on a Redis that holds many other keys.
 */
export function deleteKeys(prefix: string): Promise<number> {
  return deleteMatching(`${prefix}:*`);
}

async function deleteMatching(pattern: string): Promise<number> {
  const redis = new Redis(REDIS_URL);
  let n = 0;
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 10000);
      cursor = next;
      if (keys.length > 0) n += await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
  return n;
}
