import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { buildEvent } from '../src/event/build-event.js';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { stringify } from 'yaml';
import { loadConfig } from '../src/config/load-config.js';
import { createGateway } from '../src/gateway.js';
import { createLogger } from '../src/log/logger.js';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { recordingSink, startGateway, waitFor } from './helpers/gateway.js';
import { settled } from './helpers/queue-state.js';
import { freePort, startRedis } from './helpers/processes.js';

/** A gateway (API + workers) on the Redis at `port`, with the spool on and a recording sink writing `out`. */
async function spoolingGateway(dir: string, port: number) {
  const out = join(dir, 'rec.jsonl');
  const file = join(dir, 'studyhook.yml');
  await writeFile(
    file,
    stringify({
      dataDir: dir,
      archive: false,
      redis: { url: `redis://127.0.0.1:${port}` },
      server: { publishTimeoutMs: 500 },
      sinks: [{ name: 'rec', module: recordingSink, options: { file: out } }],
    }),
  );
  const gateway = await createGateway({
    config: loadConfig({ path: file, env: {} }),
    roles: { api: true, worker: true },
    logger: createLogger({ level: 'silent' }),
    stalledIntervalMs: 1000,
  });
  return { gateway, out };
}

describe('Redis outage', () => {
  it('answers 503 with Retry-After while Redis is down when the spool is off, stays up, and recovers when it returns', async function () {
    this.timeout(30000);
    const dir = await mkdtemp(join(tmpdir(), 'studyhook-outage-'));
    const port = await freePort();
    let redis = await startRedis(port, dir);
    const file = join(dir, 'studyhook.yml');
    await writeFile(
      file,
      stringify({
        dataDir: dir,
        redis: { url: `redis://127.0.0.1:${port}` },
        server: { publishTimeoutMs: 1000 },
        spool: { enabled: false },
      }),
    );
    const gateway = await createGateway({
      config: loadConfig({ path: file, env: {} }),
      roles: { api: true, worker: true },
      logger: createLogger({ level: 'silent' }),
    });
    const body = { studyId: 's', uploadId: 'u-outage', secretCode: 'c' };
    try {
      await request(gateway.app!).post('/sensorlogger/x').send(body).expect(200);
      redis.kill('SIGKILL');
      await new Promise((r) => redis.once('exit', r));
      const down = await request(gateway.app!)
        .post('/sensorlogger/x')
        .send({ ...body, uploadId: 'u-2' });
      assert.equal(down.status, 503);
      assert.equal(down.headers['retry-after'], '5');
      assert.equal(down.body.code, 'SH_QUEUE_UNAVAILABLE');
      await request(gateway.app!).get('/readyz').expect(503);
      await request(gateway.app!).get('/healthz').expect(200);
      redis = await startRedis(port, dir);
      await waitFor(
        'publishing to work again',
        async () =>
          (
            await request(gateway.app!)
              .post('/sensorlogger/x')
              .send({ ...body, uploadId: 'u-2' })
          ).status === 200,
        15000,
      );
      await request(gateway.app!).get('/readyz').expect(200);
    } finally {
      await gateway.close();
      redis.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('acknowledges while Redis is down by spooling to a 0600 journal, then delivers every event once when Redis returns', async function () {
    this.timeout(30000);
    const dir = await mkdtemp(join(tmpdir(), 'studyhook-spool-'));
    const port = await freePort();
    let redis = await startRedis(port, dir);
    const { gateway, out } = await spoolingGateway(dir, port);
    const body = (uploadId: string) => ({ studyId: 's', uploadId, secretCode: 'c' });
    try {
      await request(gateway.app!).post('/sensorlogger/x').send(body('before')).expect(200);
      // why: a delivery cut mid-flight by the kill only returns after its lock expires (30 s); not what this test is about.
      assert.equal(
        (await settled({ prefix: '{studyhook}', redisUrl: `redis://127.0.0.1:${port}` }, 'rec'))
          .completed,
        1,
      );
      redis.kill('SIGKILL');
      await new Promise((r) => redis.once('exit', r));
      for (let i = 0; i < 5; i++)
        await request(gateway.app!)
          .post('/sensorlogger/x')
          .send(body(`down-${i}`))
          .expect(200);
      await request(gateway.app!).post('/sensorlogger/x').send(body('down-0')).expect(200); // a retried one: still once
      const journals = (await readdir(join(dir, 'spool'))).filter((n) => n.endsWith('.jsonl'));
      assert.equal(journals.length, 1);
      assert.equal((await stat(join(dir, 'spool', journals[0]!))).mode & 0o777, 0o600);
      assert.equal(
        (await request(gateway.app!).get('/readyz').expect(200)).body.status,
        'spooling',
      );
      redis = await startRedis(port, dir);
      const ids = ['before', 'down-0', 'down-1', 'down-2', 'down-3', 'down-4'];
      const got = await waitFor(
        'every spooled event delivered',
        () => {
          const d = readDeliveries(out);
          return d.length >= ids.length && d;
        },
        20000,
      );
      assert.deepEqual(
        got.map((d) => (d.event['data'] as { uploadId: string }).uploadId).sort(),
        ids.sort(),
      );
      // why a wait: the journal is emptied after its lines were published, which may be after their delivery.
      await waitFor(
        'the journal emptied',
        async () => (await stat(join(dir, 'spool', journals[0]!))).size === 0,
      );
      assert.equal((await request(gateway.app!).get('/readyz').expect(200)).body.status, 'ready');
      assert.equal(
        (await settled({ prefix: '{studyhook}', redisUrl: `redis://127.0.0.1:${port}` }, 'rec'))
          .jobs,
        ids.length,
        'each event once',
      );
    } finally {
      await gateway.close();
      redis.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('answers /readyz (spooling) while Redis is frozen and answers nothing, and spools the calls meanwhile', async function () {
    this.timeout(30000);
    const dir = await mkdtemp(join(tmpdir(), 'studyhook-frozen-'));
    const port = await freePort();
    const redis = await startRedis(port, dir);
    const { gateway, out } = await spoolingGateway(dir, port);
    try {
      // Its connections stay open and nothing comes back: a paused host, not a refused port.
      redis.kill('SIGSTOP');
      const body = { studyId: 's', uploadId: 'frozen', secretCode: 'c' };
      await request(gateway.app!).post('/sensorlogger/x').send(body).expect(200);
      const ready = await request(gateway.app!).get('/readyz').expect(200);
      assert.deepEqual(ready.body, {
        status: 'spooling',
        redis: false,
        spoolBytes: ready.body.spoolBytes,
      });
      assert.ok(ready.body.spoolBytes > 0);
      redis.kill('SIGCONT');
      await waitFor('the spooled call delivered', () =>
        readDeliveries(out).some(
          (d) => (d.event['data'] as { uploadId: string }).uploadId === 'frozen',
        ),
      );
    } finally {
      redis.kill('SIGCONT');
      await gateway.close();
      redis.kill('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses to start an API with a clear error and the fix when Redis cannot be reached and the spool is off', async () => {
    const port = await freePort();
    const dir = await mkdtemp(join(tmpdir(), 'studyhook-nospool-'));
    await writeFile(
      join(dir, 'studyhook.yml'),
      stringify({ dataDir: dir, spool: { enabled: false } }),
    );
    const config = loadConfig({
      path: join(dir, 'studyhook.yml'),
      env: { REDIS_URL: `redis://127.0.0.1:${port}` },
    });
    await rm(dir, { recursive: true, force: true });
    await assert.rejects(
      createGateway({
        config,
        roles: { api: true, worker: false },
        logger: createLogger({ level: 'silent' }),
      }),
      (err: Error & { code?: string }) =>
        err.code === 'SH_REDIS_UNREACHABLE' &&
        /REDIS_URL/.test(err.message) &&
        /redis-server/.test(err.message),
    );
  });
});

describe('spool journal left by a dead process', () => {
  it('is taken over at start and delivered, then removed', async () => {
    let out = '';
    const dead = 2 ** 22 + 12345; // above the usual pid_max, so no live process has it
    const t = await startGateway((dir) => {
      out = join(dir, 'rec.jsonl');
      const env = buildEvent(
        {
          type: 'sensorlogger.recording.uploaded',
          key: ['s', 'orphan'],
          data: { studyId: 's', uploadId: 'orphan' },
        },
        { platform: 'sensorlogger', namespace: 'default', requestId: 'r1', receivedAt: new Date() },
        'ab',
        { method: 'POST', path: '/sensorlogger/default', headers: {}, bodySize: 0, ip: '' },
      );
      mkdirSync(join(dir, 'spool'), { recursive: true });
      writeFileSync(
        join(dir, 'spool', `${hostname().replace(/[^A-Za-z0-9_.-]/g, '_')}-${dead}.jsonl`),
        `${JSON.stringify([env])}\n`,
        { mode: 0o600 },
      );
      return {
        archive: false,
        sinks: [{ name: 'rec', module: recordingSink, options: { file: out } }],
      };
    });
    try {
      await waitFor('the orphaned event delivered', () => readDeliveries(out).length === 1);
      // why: only this process's heartbeat (`.alive`) stays.
      await waitFor('the adopted journal removed', async () =>
        (await readdir(join(t.dataDir, 'spool'))).every((n) => n.endsWith('.alive')),
      );
    } finally {
      await t.close();
    }
  });
});
