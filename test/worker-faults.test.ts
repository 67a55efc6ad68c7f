import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import request from 'supertest';
import { stringify } from 'yaml';
import { loadConfig } from '../src/config/load-config.js';
import { jobIdOf } from '../src/event/build-event.js';
import { createGateway } from '../src/gateway.js';
import { createLogger } from '../src/log/logger.js';
import { sinkQueueName } from '../src/queue/redis.js';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import {
  testPrefix,
  fixtures,
  recordingSink,
  REDIS_URL,
  startGateway,
  waitFor,
} from './helpers/gateway.js';
import { spawnStudyhook, stop, type Studyhook } from './helpers/processes.js';

const upload = (uploadId: string) => ({ studyId: 's', uploadId, secretCode: 'code-1234' });

describe('an event that crashes its worker', () => {
  it('becomes a dead letter after workers.maxStalls crashes, and the events behind it are delivered', async function () {
    this.timeout(90000);
    const dir = await mkdtemp(join(tmpdir(), 'studyhook-crash-'));
    const prefix = testPrefix('crash');
    const out = join(dir, 'out.jsonl');
    const file = join(dir, 'studyhook.yml');
    await writeFile(
      file,
      stringify({
        dataDir: dir,
        archive: false,
        redis: { url: REDIS_URL, prefix },
        log: { level: 'warn' },
        workers: { stalledIntervalMs: 300, lockDurationMs: 1000, maxStalls: 2 },
        sinks: [
          {
            name: 'crashy',
            module: join(fixtures, 'sinks', 'crash-sink.ts'),
            options: { file: out, poison: 'poison' },
            concurrency: 1,
          },
        ],
      }),
    );
    const api = await createGateway({
      config: loadConfig({ path: file, env: {} }),
      roles: { api: true, worker: false },
      logger: createLogger({ level: 'silent' }),
    });
    const queue = new Queue(sinkQueueName('crashy'), { connection: { url: REDIS_URL }, prefix });
    const workers: Studyhook[] = [];
    try {
      const poison = (
        await request(api.app!).post('/sensorlogger/x').send(upload('poison')).expect(200)
      ).body.id as string;
      for (const id of ['a', 'b', 'c'])
        await request(api.app!).post('/sensorlogger/x').send(upload(id)).expect(200);
      // A supervisor, as Docker or systemd would be, of two worker replicas: it starts a worker again
      // whenever one dies. why two: the survivor takes the crashing event back while the dead one
      // restarts, so that the test does not wait for a process start after every crash.
      let crashes = 0;
      const replicas: (Studyhook | undefined)[] = [undefined, undefined];
      const deadLettered = async (): Promise<boolean> =>
        (await queue.getFailed()).some((j) => j.id === jobIdOf(poison));
      await waitFor(
        'the crashing event to become a dead letter',
        async () => {
          replicas.forEach((current, i) => {
            if (current && current.proc.exitCode === null && current.proc.signalCode === null)
              return;
            if (current) crashes++;
            replicas[i] = spawnStudyhook('worker', file);
            workers.push(replicas[i]!);
          });
          return deadLettered();
        },
        60000,
      );
      await waitFor(
        'the other events delivered',
        () => {
          try {
            return readFileSync(out, 'utf8').trim().split('\n').length === 3;
          } catch {
            return false;
          }
        },
        20000,
      );
      const failed = (await queue.getFailed()).find((j) => j.id === jobIdOf(poison))!;
      console.log(
        `      crash loop: worker crashes ${crashes}, dead letter reason: ${failed.failedReason}`,
      );
      assert.match(failed.failedReason, /stalled/);
      assert.ok(crashes >= 2 && crashes <= 3, `crashes ${crashes}`);
      // why: the worker's 'failed' handler drops the secrets right after BullMQ fails the job; wait for that write.
      await waitFor(
        'the dead letter without its secret',
        async () => (await queue.getJob(failed.id!))?.data.secrets === undefined,
      );
    } finally {
      for (const w of workers) await stop(w.proc, 'SIGKILL');
      await queue.close();
      await api.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('large event data', () => {
  it('is kept out of Redis (a dataref to the blob store) and handed to sinks and the archive whole', async () => {
    let out = '';
    const t = await startGateway((d) => {
      out = join(d, 'rec.jsonl');
      return { sinks: [{ name: 'rec', module: recordingSink, options: { file: out } }] };
    });
    const queue = new Queue(sinkQueueName('rec'), {
      connection: { url: REDIS_URL },
      prefix: t.prefix,
    });
    try {
      const samples = Array.from({ length: 20000 }, (_, i) => ({
        x: i,
        y: i * 2,
        t: 1700000000000 + i,
      }));
      const trial = {
        expSessionNr: 77,
        recTaskId: 3,
        trialNr: 1,
        recData: { data: { mouse: samples }, scope: 'trial' },
      };
      const res = await request(t.gateway.app!)
        .post('/labvanced/x/recordTrial')
        .send(trial)
        .expect(200);
      assert.deepEqual(res.body, { success: true });
      const [job] = await queue.getJobs(['waiting', 'active', 'completed']);
      const data = JSON.stringify(job!.data);
      assert.ok(data.length < 10000, `the queued job is small (${data.length} bytes)`);
      assert.match(data, /"dataref":"blob:[0-9a-f-]{36}"/);
      const delivered = await waitFor('the trial delivered', () => readDeliveries(out)[0]);
      assert.deepEqual((delivered.event['data'] as typeof trial).recData.data.mouse.length, 20000);
      const day = new Date().toISOString().slice(0, 10);
      const archived = await waitFor('the trial archived', () => {
        try {
          return readFileSync(join(t.dataDir, 'events', 'labvanced', 'x', `${day}.jsonl`), 'utf8');
        } catch {
          return '';
        }
      });
      assert.equal(
        (JSON.parse(archived) as { data: typeof trial }).data.recData.data.mouse[19999]!.t,
        1700000019999,
      );
    } finally {
      await queue.close();
      await t.close();
    }
  });
});

describe('data at rest', () => {
  it('writes archive, blobs and their folders readable by owner and group only, and keeps no secret in delivered jobs', async () => {
    let out = '';
    const t = await startGateway((d) => {
      out = join(d, 'rec.jsonl');
      return { sinks: [{ name: 'rec', module: recordingSink, options: { file: out } }] };
    });
    const queue = new Queue(sinkQueueName('rec'), {
      connection: { url: REDIS_URL },
      prefix: t.prefix,
    });
    try {
      const id = (
        await request(t.gateway.app!).post('/sensorlogger/x').send(upload('u-1')).expect(200)
      ).body.id as string;
      const up = await request(t.gateway.app!)
        .post('/labvanced/x/file_upload')
        .field('expSessionNr', '5')
        .field('newFileName', 'a.webm')
        .attach('myFile', Buffer.from('video'), 'a.webm')
        .expect(200);
      await waitFor('delivered', () => readDeliveries(out).length === 2);
      assert.equal(
        readDeliveries(out).find((d) => d.event.id === id)!.secrets['secretCode'],
        'code-1234',
        'the sink had the secret',
      );
      await waitFor('the job completed', async () => (await queue.getJob(jobIdOf(id)))?.finishedOn);
      assert.equal(
        (await queue.getJob(jobIdOf(id)))!.data.secrets,
        undefined,
        'a delivered job keeps no secret',
      );
      const day = new Date().toISOString().slice(0, 10);
      const archive = join(t.dataDir, 'events', 'sensorlogger', 'x', `${day}.jsonl`);
      await waitFor('archived', () => {
        try {
          return statSync(archive).size > 0;
        } catch {
          return false;
        }
      });
      const mode = (p: string): number => statSync(p).mode & 0o777;
      assert.equal(mode(archive), 0o640);
      assert.equal(mode(join(t.dataDir, 'events', 'sensorlogger')), 0o750);
      const file = readDeliveries(out).find((d) => d.event.id === up.body.file_guid)!.event[
        'data'
      ] as { file: { id: string } };
      const blob = t.gateway.blobs.location(file.file.id);
      assert.equal(mode(blob), 0o640);
      assert.equal(mode(join(blob, '..')), 0o750);
    } finally {
      await queue.close();
      await t.close();
    }
  });
});
