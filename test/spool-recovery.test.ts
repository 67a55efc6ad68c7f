import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import request from 'supertest';
import { stringify } from 'yaml';
import { buildEvent, jobIdOf, type Envelope } from '../src/event/build-event.js';
import { Redis } from 'ioredis';
import { sinkQueueName } from '../src/queue/redis.js';
import { isRedisUnavailable, RedisTimeoutError } from '../src/queue/redis-errors.js';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { recordingSink, REDIS_URL, startGateway, waitFor } from './helpers/gateway.js';
import { settled } from './helpers/queue-state.js';
import { freePort, spawnStudyhook, startRedis, stop, type Studyhook } from './helpers/processes.js';

const host = hostname().replace(/[^A-Za-z0-9_.-]/g, '_');
const DEAD = 2 ** 22 + 4321; // above the usual pid_max: no live process has it
const DEAD2 = 2 ** 22 + 4322;

function envelope(uploadId: string, data: unknown = { studyId: 's', uploadId }): Envelope {
  return buildEvent(
    { type: 'sensorlogger.recording.uploaded', key: ['s', uploadId], data },
    {
      platform: 'sensorlogger',
      namespace: 'default',
      requestId: `r-${uploadId}`,
      receivedAt: new Date(),
    },
    'ab',
    { method: 'POST', path: '/sensorlogger/default', headers: {}, bodySize: 0, ip: '' },
  );
}

const line = (...envs: Envelope[]): string => `${JSON.stringify(envs)}\n`;
// why: deep enough that BullMQ's JSON.stringify of the job throws a RangeError, shallow enough to parse.
const deep = (depth: number): string => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('spool recovery', () => {
  it('drains a journal past lines it cannot publish: sets them aside, counts them, delivers the rest once', async () => {
    let out = '';
    const t = await startGateway((dir) => {
      out = join(dir, 'rec.jsonl');
      mkdirSync(join(dir, 'spool'), { recursive: true });
      const poison = line(envelope('deep')).replace(
        '{"studyId":"s","uploadId":"deep"}',
        deep(6000),
      );
      writeFileSync(
        join(dir, 'spool', `${host}-${DEAD}.jsonl`),
        line(envelope('good-1')) +
          'not json at all\n' +
          poison +
          line(envelope('good-2')) +
          '[{"event":{"torn',
        { mode: 0o600 },
      );
      return {
        archive: false,
        admin: { token: 'admin-token-for-tests-0123' },
        sinks: [{ name: 'rec', module: recordingSink, options: { file: out } }],
      };
    });
    try {
      await waitFor('the two good events', () => readDeliveries(out).length === 2);
      await waitFor('the adopted journal removed', async () =>
        (await readdir(join(t.dataDir, 'spool'))).every((n) => !n.includes('.jsonl.adopted')),
      );
      assert.deepEqual(
        readDeliveries(out).map((d) => (d.event['data'] as { uploadId: string }).uploadId),
        ['good-1', 'good-2'],
      );
      const rejected = readFileSync(join(t.dataDir, 'spool', 'rejected.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { reason: string; line: number });
      assert.deepEqual(
        rejected.map((r) => r.line),
        [2, 3],
      );
      assert.match(rejected[1]!.reason, /could not be stored/);
      const app = t.gateway.app!;
      const metrics = (
        await request(app)
          .get('/metrics')
          .set('authorization', 'Bearer admin-token-for-tests-0123')
          .expect(200)
      ).text;
      assert.match(metrics, /studyhook_spool_rejected_total 2/);
      assert.match(metrics, /studyhook_spool_bytes 0/);
      assert.deepEqual((await request(app).get('/readyz').expect(200)).body, {
        status: 'ready',
        redis: true,
        spoolBytes: 0,
      });
      // Later calls go straight to Redis: their jobs exist as soon as they are acknowledged.
      const queue = new Queue(sinkQueueName('rec'), {
        connection: { url: REDIS_URL },
        prefix: t.prefix,
      });
      try {
        for (let i = 0; i < 5; i++) {
          const res = await request(app)
            .post('/sensorlogger/x')
            .send({ studyId: 's', uploadId: `after-${i}`, secretCode: 'c' })
            .expect(200);
          assert.ok(
            (await queue.getJob(jobIdOf(res.body.id))) ??
              (await queue.getDeduplicationJobId(jobIdOf(res.body.id))),
            `job of after-${i} exists at the ack`,
          );
        }
      } finally {
        await queue.close();
      }
      assert.equal(t.gateway.publisher.backlogBytes(), 0);
    } finally {
      await t.close();
    }
  });

  it('answers a body too deep to store with an error, never 200, and keeps serving normal calls', async () => {
    const t = await startGateway({ archive: false });
    try {
      const res = await request(t.gateway.app!)
        .post('/sensorlogger/x')
        .set('content-type', 'application/json')
        .send(`{"studyId":"s","uploadId":"u","secretCode":"c","x":${deep(6000)}}`);
      assert.notEqual(res.status, 200);
      assert.notEqual(res.status, 503, 'a payload problem is not an outage');
      for (let i = 0; i < 5; i++)
        await request(t.gateway.app!)
          .post('/sensorlogger/x')
          .send({ studyId: 's', uploadId: `n-${i}`, secretCode: 'c' })
          .expect(200);
      assert.equal(t.gateway.publisher.backlogBytes(), 0, 'nothing went to the spool');
    } finally {
      await t.close();
    }
  });

  it('delivers both journals left by an earlier process with this host and pid (a restarted container), its own and one it had adopted', async () => {
    let out = '';
    const own = `${host}-${process.pid}.jsonl`;
    const t = await startGateway((dir) => {
      out = join(dir, 'rec.jsonl');
      mkdirSync(join(dir, 'spool'), { recursive: true });
      writeFileSync(join(dir, 'spool', own), line(envelope('own')), { mode: 0o600 });
      writeFileSync(
        join(dir, 'spool', `${own}.adopted-${host}-${process.pid}`),
        line(envelope('adopted')),
        { mode: 0o600 },
      );
      return {
        archive: false,
        sinks: [{ name: 'rec', module: recordingSink, options: { file: out } }],
      };
    });
    try {
      await waitFor('both spooled events', () => readDeliveries(out).length === 2);
      assert.deepEqual(
        readDeliveries(out)
          .map((d) => (d.event['data'] as { uploadId: string }).uploadId)
          .sort(),
        ['adopted', 'own'],
      );
    } finally {
      await t.close();
    }
  });

  it("takes over a journal that a dead process had adopted but not drained, and leaves a live adopter's alone", async () => {
    let out = '';
    const live = spawn('sleep', ['60']);
    const t = await startGateway((dir) => {
      out = join(dir, 'rec.jsonl');
      mkdirSync(join(dir, 'spool'), { recursive: true });
      writeFileSync(
        join(dir, 'spool', `${host}-${DEAD}.jsonl.adopted-${DEAD2}`),
        line(envelope('orphan-1'), envelope('orphan-2')),
        { mode: 0o600 },
      );
      writeFileSync(
        join(dir, 'spool', `${host}-${DEAD2}.jsonl.adopted-${live.pid}`),
        line(envelope('busy')),
        { mode: 0o600 },
      );
      return {
        archive: false,
        sinks: [{ name: 'rec', module: recordingSink, options: { file: out } }],
      };
    });
    try {
      await waitFor('both orphaned events', () => readDeliveries(out).length === 2);
      const left = await readdir(join(t.dataDir, 'spool'));
      assert.ok(
        left.includes(`${host}-${DEAD2}.jsonl.adopted-${live.pid}`),
        'the live adopter keeps its journal',
      );
      assert.ok(!left.some((n) => n.startsWith(`${host}-${DEAD}.`)), 'the drained journal is gone');
    } finally {
      live.kill('SIGKILL');
      await t.close();
    }
  });
});

describe('which Redis errors count as an outage', () => {
  it('spools for a refused connection, a timeout and a full Redis, never for a bad command or an unserialisable payload', async function () {
    this.timeout(20000);
    const dir = await mkdtemp(join(tmpdir(), 'studyhook-errors-'));
    const port = await freePort();
    const redis = await startRedis(port, dir);
    const client = new Redis(port, { maxRetriesPerRequest: 0 });
    const closed = new Redis(await freePort(), {
      lazyConnect: true,
      enableOfflineQueue: false,
      retryStrategy: () => null,
    });
    closed.on('error', () => undefined);
    try {
      const refused = await closed.connect().then(
        () => undefined,
        (e: unknown) => e,
      );
      const offline = await closed.get('x').then(
        () => undefined,
        (e: unknown) => e,
      );
      const wrong = await client.call('NOSUCHCOMMAND').then(
        () => undefined,
        (e: unknown) => e,
      );
      await client.config('SET', 'maxmemory', '1');
      const full = await client.set('k', 'v').then(
        () => undefined,
        (e: unknown) => e,
      );
      let range: unknown;
      try {
        JSON.stringify(JSON.parse(deep(6000)));
      } catch (e) {
        range = e;
      }
      assert.deepEqual(
        [refused, offline, new RedisTimeoutError(5), full].map(isRedisUnavailable),
        [true, true, true, true],
        String(full),
      );
      assert.deepEqual([wrong, range, new TypeError('x')].map(isRedisUnavailable), [
        false,
        false,
        false,
      ]);
    } finally {
      client.disconnect();
      await stop(redis, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('spool recovery across process deaths (real processes, a private Redis)', () => {
  it('delivers every call acknowledged by two API processes killed in turn while Redis was down', async function () {
    this.timeout(120000);
    const dir = await mkdtemp(join(tmpdir(), 'studyhook-orphans-'));
    const [redisPort, apiPort] = [await freePort(), await freePort()];
    const out = join(dir, 'delivered.jsonl');
    const config = join(dir, 'studyhook.yml');
    await writeFile(
      config,
      stringify({
        dataDir: join(dir, 'data'),
        archive: false,
        log: { level: 'info' },
        redis: { url: `redis://127.0.0.1:${redisPort}`, prefix: '{orphans}' },
        server: { port: apiPort, host: '127.0.0.1', publishTimeoutMs: 300 },
        workers: { stalledIntervalMs: 1000, lockDurationMs: 2000 },
        sinks: [{ name: 'rec', module: recordingSink, options: { file: out } }],
      }),
    );
    const procs: Studyhook[] = [];
    const base = `http://127.0.0.1:${apiPort}`;
    const up = (): Promise<unknown> =>
      waitFor(
        'the API to answer',
        async () => {
          try {
            return (await fetch(`${base}/healthz`)).ok;
          } catch {
            return false;
          }
        },
        30000,
      );
    const acked: string[] = [];
    let sent = 0;
    const send = async (prefix: string, n: number): Promise<void> => {
      for (let i = 0; i < n; i++) {
        sent++;
        const uploadId = `${prefix}-${i}`;
        const res = await fetch(`${base}/sensorlogger/study`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ studyId: 's', uploadId, secretCode: 'c' }),
        });
        await res.arrayBuffer();
        if (res.status === 200) acked.push(uploadId);
      }
    };
    let redis: ReturnType<typeof spawn> | undefined;
    try {
      // Redis is down from the start: the first API starts anyway and spools.
      procs.push(spawnStudyhook('api', config));
      await up();
      await send('first', 20);
      assert.match(procs[0]!.output(), /REDIS UNREACHABLE AT START/);
      await stop(procs[0]!.proc, 'SIGKILL');
      // A second API adopts the first one's journal, cannot drain it (Redis still down), spools more, and dies too.
      procs.push(spawnStudyhook('api', config));
      await up();
      await send('second', 20);
      await stop(procs[1]!.proc, 'SIGKILL');
      // Redis back: a third process (API and worker in one) delivers everything.
      redis = await startRedis(redisPort, dir);
      procs.push(spawnStudyhook('start', config));
      await up();
      await waitFor(
        'every acknowledged call delivered',
        () => readDeliveries(out).length >= acked.length,
        60000,
      );
      await settled(
        { prefix: '{orphans}', redisUrl: `redis://127.0.0.1:${redisPort}` },
        'rec',
        30000,
      );
      const ids = readDeliveries(out).map(
        (d) => (d.event['data'] as { uploadId: string }).uploadId,
      );
      const lost = acked.filter((id) => !ids.includes(id));
      console.log(
        `      orphans: sent ${sent}, acknowledged ${acked.length}, delivered ${new Set(ids).size} distinct (${ids.length} deliveries), lost ${lost.length}`,
      );
      assert.equal(acked.length, sent, 'every call was acknowledged while Redis was down');
      assert.deepEqual(lost, []);
      assert.equal(ids.length, new Set(ids).size, 'each event delivered once');
      await waitFor(
        'every journal drained and removed',
        async () =>
          (await readdir(join(dir, 'data', 'spool'))).filter((n) => n.includes('.jsonl')).length <=
          1,
      );
    } finally {
      for (const p of procs) await stop(p.proc, 'SIGKILL');
      if (redis) await stop(redis, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
