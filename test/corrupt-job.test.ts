import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import request from 'supertest';
import { stringify } from 'yaml';
import { loadConfig } from '../src/config/load-config.js';
import { jobIdOf } from '../src/event/build-event.js';
import { createGateway } from '../src/gateway.js';
import { createLogger } from '../src/log/logger.js';
import { sinkQueueName } from '../src/queue/redis.js';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { REDIS_URL, recordingSink, testPrefix, waitFor } from './helpers/gateway.js';

const TOKEN = 'corrupt-job-admin-token-0123456789';

describe('a job whose data was edited in Redis', () => {
  it('becomes a dead letter at once, naming why; the worker stays up and delivers the others; the dashboard lists the rest', async function () {
    this.timeout(60000);
    const dir = await mkdtemp(join(tmpdir(), 'studyhook-corrupt-'));
    const prefix = testPrefix('corrupt');
    const out = join(dir, 'rec.jsonl');
    const file = join(dir, 'studyhook.yml');
    await writeFile(
      file,
      stringify({
        dataDir: dir,
        archive: false,
        admin: { token: TOKEN },
        redis: { url: REDIS_URL, prefix },
        workers: { stalledIntervalMs: 300, lockDurationMs: 3000, maxStalls: 1 },
        sinks: [{ name: 'rec', module: recordingSink, options: { file: out }, concurrency: 1 }],
      }),
    );
    const logs: string[] = [];
    const gateway = (roles: { api: boolean; worker: boolean }) =>
      createGateway({
        config: loadConfig({ path: file, env: {} }),
        roles,
        logger: createLogger({
          level: 'warn',
          destination: new Writable({
            write(chunk, _e, cb) {
              logs.push(String(chunk));
              cb();
            },
          }),
        }),
      });
    const api = await gateway({ api: true, worker: false });
    const redis = new Redis(REDIS_URL);
    const queue = new Queue(sinkQueueName('rec'), { connection: { url: REDIS_URL }, prefix });
    let worker: Awaited<ReturnType<typeof gateway>> | undefined;
    try {
      const ids: string[] = [];
      for (const u of ['a', 'b', 'c'])
        ids.push(
          (
            await request(api.app!)
              .post('/sensorlogger/lab')
              .send({ studyId: 's', uploadId: u, secretCode: 'code' })
              .expect(200)
          ).body.id as string,
        );
      // Not JSON, and JSON that is no event: both as an operator's slip in redis-cli would leave them.
      const key = (id: string) => `${prefix}:${sinkQueueName('rec')}:${jobIdOf(id)}`;
      await redis.hset(key(ids[0]!), 'data', '{"event": truncated');
      await redis.hset(key(ids[1]!), 'data', '{}');
      worker = await gateway({ api: false, worker: true });
      const started = Date.now();
      await waitFor(
        'both edited jobs dead letters',
        async () => (await queue.getFailedCount()) === 2,
        15000,
      ).catch(async (err: Error) => {
        const counts = JSON.stringify(await queue.getJobCounts('active', 'delayed', 'failed'));
        const stalls = logs.filter((l) => l.includes('delivery stalled')).length;
        const errors = logs.filter((l) => l.includes('worker error')).length;
        throw new Error(`${err.message}: ${counts}, stalls ${stalls}, worker errors ${errors}`);
      });
      await waitFor('the intact event delivered', () => readDeliveries(out).length === 1);
      const failed = await redis.hmget(key(ids[0]!), 'failedReason', 'atm');
      const edited = [jobIdOf(ids[0]!), jobIdOf(ids[1]!)];
      const stalls = logs.filter(
        (l) => l.includes('delivery stalled') && edited.some((id) => l.includes(id)),
      ).length;
      console.log(
        `      edited jobs: dead letters after ${Date.now() - started} ms, stalls ${stalls}, reason: ${failed[0]}`,
      );
      assert.match(failed[0] ?? '', /unreadable/);
      assert.equal(failed[1], '1', "one attempt, not the sink's eight");
      assert.equal(stalls, 0);
      assert.equal(readDeliveries(out)[0]!.event.id, ids[2]);
      // The dashboard's pages read the same queues: the unreadable job is left out, not a 500.
      const events = await request(api.app!)
        .get('/admin/events')
        .auth('admin', TOKEN)
        .set('accept', 'application/json');
      const data = await request(api.app!).get('/admin/overview/data.json').auth('admin', TOKEN);
      console.log(`      dashboard: /admin/events ${events.status}, overview data ${data.status}`);
      assert.equal(events.status, 200);
      assert.deepEqual(
        (events.body as { events: { id: string }[] }).events.map((e) => e.id).sort(),
        [ids[2]],
      );
      assert.equal(data.status, 200);
      assert.deepEqual(
        (data.body as { failures: { jobId: string }[] }).failures.map((f) => f.jobId),
        [],
        'the no-event dead letter is not listed either (no event to show)',
      );
    } finally {
      await worker?.close();
      await api.close();
      await queue.close();
      redis.disconnect();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
