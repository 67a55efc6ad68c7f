import assert from 'node:assert/strict';
import { once } from 'node:events';
import { randomUUID } from 'node:crypto';
import { createRedis } from '../src/queue/redis.js';

const url = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

// createRedis batches the commands of one event-loop turn into one write (a corked socket); these
// check that batching loses, reorders and holds back nothing, also across a reconnect.
describe('Redis connections (writes batched per turn)', () => {
  for (const role of ['producer', 'worker'] as const) {
    it(`answers every command of one turn in order, and again after a reconnect (${role})`, async () => {
      const redis = createRedis(url, role);
      const key = `studyhook-test:batch:${randomUUID()}`;
      try {
        if (redis.status !== 'ready') await once(redis, 'ready');
        const first = await Promise.all(Array.from({ length: 500 }, () => redis.incr(key)));
        assert.deepEqual(
          first,
          Array.from({ length: 500 }, (_, i) => i + 1),
        );
        redis.disconnect(true);
        await once(redis, 'ready');
        const [a, b] = await Promise.all([redis.incr(key), redis.incr(key)]);
        assert.deepEqual([a, b], [501, 502]);
        // why: a command alone in its turn must not wait for a later one to flush it.
        assert.equal(await redis.get(key), '502');
      } finally {
        await redis.del(key).catch(() => undefined);
        redis.disconnect();
      }
    });
  }
});
