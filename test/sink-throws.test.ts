import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import request from 'supertest';
import type { Envelope } from '../src/event/build-event.js';
import { sinkQueueName } from '../src/queue/redis.js';
import { REDIS_URL, startGateway, waitFor } from './helpers/gateway.js';

// A real sink plugin, loaded by the real loader, that throws what JavaScript lets it throw.
const SINK = `export default {
  name: 'throwing',
  async deliver(event) {
    const thrown = { undefined: undefined, null: null, string: 'a string', object: { code: 42 } };
    throw thrown[event.data.uploadId];
  },
};
`;

describe('a sink that throws something other than an Error', () => {
  it('is retried with backoff and becomes a dead letter after its attempts, with what it threw as the reason', async function () {
    this.timeout(30000);
    const t = await startGateway((dir) => {
      writeFileSync(join(dir, 'throwing.mjs'), SINK);
      return {
        archive: false,
        workers: { lockDurationMs: 3000, maxStalls: 1 },
        sinks: [
          {
            name: 'thr',
            module: join(dir, 'throwing.mjs'),
            attempts: 2,
            backoff: { type: 'fixed', delayMs: 50 },
          },
        ],
      };
    });
    const queue = new Queue<Envelope>(sinkQueueName('thr'), {
      connection: { url: REDIS_URL },
      prefix: t.prefix,
    });
    try {
      const kinds = ['undefined', 'null', 'string', 'object'];
      for (const kind of kinds)
        await request(t.gateway.app!)
          .post('/sensorlogger/lab')
          .send({ studyId: 's', uploadId: kind, secretCode: 'c' })
          .expect(200);
      await waitFor('four dead letters', async () => (await queue.getFailedCount()) === 4, 15000);
      const dead = new Map(
        (await queue.getFailed()).map((j) => [
          (j.data.event.data as { uploadId: string }).uploadId,
          j,
        ]),
      );
      const lines = kinds.map(
        (k) =>
          `${k}: ${dead.get(k)!.attemptsMade} attempts, ${JSON.stringify(dead.get(k)!.failedReason)}`,
      );
      console.log(`      ${lines.join('; ')}`);
      for (const kind of kinds) {
        assert.equal(dead.get(kind)!.attemptsMade, 2, `${kind}: both attempts`);
        assert.match(dead.get(kind)!.failedReason, /threw a non-Error/, kind);
      }
      assert.match(dead.get('string')!.failedReason, /a string/);
      assert.match(dead.get('object')!.failedReason, /code: 42/);
      assert.deepEqual(
        t.logs.filter((l) => /worker error|delivery stalled/.test(l)),
        [],
        'no BullMQ error, no stall',
      );
    } finally {
      await queue.close();
      await t.close();
    }
  });
});
