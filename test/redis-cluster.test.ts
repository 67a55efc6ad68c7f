import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import request from 'supertest';
import { parse, stringify } from 'yaml';
import { isStale } from '../adapters/prolific/ordering.js';
import { startRedisCluster, type LocalCluster } from '../scripts/redis-cluster.js';
import { quarantine } from '../src/commands/quarantine.js';
import { loadConfig } from '../src/config/load-config.js';
import { createGateway } from '../src/gateway.js';
import { createLogger } from '../src/log/logger.js';
import { connectRedis, openQueue } from '../src/queue/redis.js';
import { replayDeadLetters } from '../src/queue/replay.js';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import {
  fixtures,
  recordingSink,
  startGateway,
  waitFor,
  type TestGateway,
} from './helpers/gateway.js';
import { prolificSignature } from './helpers/sign.js';

const SECRET = 'prolific-cluster-secret';
const switchSink = join(fixtures, 'sinks', 'switch-sink.ts');

/** Jobs of a sink's queue in any state: read right after an acknowledgement. */
async function jobs(url: string, prefix: string, sink: string): Promise<number> {
  const q = openQueue(sink, url, prefix);
  try {
    return Object.values(await q.getJobCounts()).reduce((a, b) => a + b, 0);
  } finally {
    await q.close();
  }
}

describe('the gateway on a 3-primary Redis Cluster (each primary with a replica)', function () {
  this.timeout(60000);
  let dir: string;
  let cluster: LocalCluster;
  let t: TestGateway;
  let sinks: string[];
  let prefix: string;
  const out = (sink: string): string => join(dir, `${sink}.jsonl`);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'studyhook-cluster-'));
    cluster = await startRedisCluster({ dir: join(dir, 'redis') });
    // Three sink names whose queues' hash tags ({sink-<name>}) fall on three different primaries.
    const probe = new Redis(cluster.nodes[0]!.port, '127.0.0.1');
    const byMaster = new Map<number, string>();
    for (let i = 0; byMaster.size < 3; i++) {
      const port = (
        await cluster.nodeOfSlot(Number(await probe.cluster('KEYSLOT', `{sink-s${i}}`)))
      ).port;
      if (!byMaster.has(port)) byMaster.set(port, `s${i}`);
    }
    probe.disconnect();
    sinks = [...byMaster.values()];
    prefix = `shc-${randomUUID().slice(0, 8)}`;
    t = await startGateway({
      redis: {
        cluster: cluster.nodes.map((n) => `redis://127.0.0.1:${n.port}`),
        prefix,
        waitReplicas: 1,
      },
      server: { port: 0, host: '127.0.0.1', publishTimeoutMs: 1500 },
      archive: false,
      spool: { heartbeatMs: 200 },
      platforms: { prolific: { namespaces: { lab: { secrets: [SECRET] } } } },
      sinks: [
        ...sinks.map((name) => ({ name, module: recordingSink, options: { file: out(name) } })),
        {
          name: 'flaky',
          module: switchSink,
          options: { file: out('flaky'), failWhile: join(dir, 'flaky-down') },
          attempts: 2,
          backoff: { type: 'fixed', delayMs: 50 },
          filter: { types: ['sensorlogger.*'] },
        },
      ],
    });
  });
  after(async () => {
    await t?.close();
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("puts each sink's queue on its own primary (per-sink hash tags under an untagged prefix)", async () => {
    const probe = new Redis(cluster.nodes[0]!.port, '127.0.0.1');
    try {
      const ports = new Set<number>();
      for (const name of sinks) {
        const slot = Number(await probe.cluster('KEYSLOT', `${prefix}:{sink-${name}}:wait`));
        assert.equal(
          slot,
          Number(await probe.cluster('KEYSLOT', `{sink-${name}}`)),
          `${name}: a queue's keys hash by its own tag`,
        );
        ports.add((await cluster.nodeOfSlot(slot)).port);
      }
      assert.equal(ports.size, 3);
    } finally {
      probe.disconnect();
    }
  });

  it("acknowledges an event once a job is in every sink's queue, delivers it to each, and takes a redelivery once", async () => {
    const before = await Promise.all(sinks.map((s) => jobs(cluster.url, prefix, s)));
    const body = { studyId: 'st', uploadId: `u-${randomUUID()}`, secretCode: 'x' };
    await request(t.gateway.app!).post('/sensorlogger/pilot').send(body).expect(200);
    const after = await Promise.all(sinks.map((s) => jobs(cluster.url, prefix, s)));
    assert.deepEqual(
      after.map((n, i) => n - before[i]!),
      [1, 1, 1],
      'one job per sink, in Redis when answered',
    );
    for (const s of sinks)
      await waitFor(`delivery to ${s}`, () =>
        readDeliveries(out(s)).some(
          (d) => (d.event['data'] as { uploadId: string }).uploadId === body.uploadId,
        ),
      );
    await request(t.gateway.app!).post('/sensorlogger/pilot').send(body).expect(200);
    assert.deepEqual(
      await Promise.all(sinks.map((s) => jobs(cluster.url, prefix, s))),
      after,
      'the redelivery added no job',
    );
  });

  it('retries, keeps a dead letter, and replays it into delivery', async () => {
    await writeFile(join(dir, 'flaky-down'), '');
    const uploadId = `dl-${randomUUID()}`;
    await request(t.gateway.app!)
      .post('/sensorlogger/pilot')
      .send({ studyId: 'st', uploadId, secretCode: 'x' })
      .expect(200);
    const q = openQueue('flaky', cluster.url, prefix);
    try {
      await waitFor('a dead letter', async () =>
        (await q.getFailed()).some(
          (j) =>
            (j.data as { event: { data: { uploadId: string } } }).event.data.uploadId ===
              uploadId && j.attemptsMade === 2,
        ),
      );
    } finally {
      await q.close();
    }
    await rm(join(dir, 'flaky-down'));
    const sink = {
      name: 'flaky',
      options: {},
      filter: {},
      attempts: 2,
      backoff: { type: 'fixed' as const, delayMs: 50 },
      concurrency: 1,
    };
    assert.equal(
      (await replayDeadLetters({ redisUrl: cluster.url, prefix, sink }, {})).requeued,
      1,
    );
    await waitFor('the replayed delivery', () =>
      readFile(out('flaky'), 'utf8').then(
        (s) => s.includes(uploadId),
        () => false,
      ),
    );
  });

  it('acknowledges a signed request resent under another event id without queueing it again (replay keys on the cluster)', async () => {
    const body = JSON.stringify({
      event_type: 'submission.status.change',
      resource_id: 'sub-c',
      participant_id: 'p-c',
      study_id: 'st-1',
      status: 'APPROVED',
    });
    const ts = String(Math.floor(Date.now() / 1000));
    const headers = {
      'content-type': 'application/json',
      'x-prolific-request-timestamp': ts,
      'x-prolific-request-signature': prolificSignature(SECRET, ts, body),
    };
    const before = await jobs(cluster.url, prefix, sinks[0]!);
    await request(t.gateway.app!)
      .post('/prolific/lab')
      .set({ ...headers, 'x-event-id': 'evt-c1' })
      .send(body)
      .expect(200);
    await request(t.gateway.app!)
      .post('/prolific/lab')
      .set({ ...headers, 'x-event-id': 'evt-c2' })
      .send(body)
      .expect(200);
    assert.equal((await jobs(cluster.url, prefix, sinks[0]!)) - before, 1);
  });

  it("keeps Prolific's high-water marks on the cluster (isStale with a Cluster connection)", async () => {
    const redis = connectRedis(cluster.url, 'handle');
    try {
      await once(redis, 'ready');
      const event = (ts: string) =>
        ({
          platform: 'prolific',
          namespace: 'lab',
          type: 'prolific.submission.status.change',
          subject: 'sub-h',
          prolifictimestamp: ts,
        }) as never;
      assert.equal(await isStale(event('1700000010'), redis, { prefix }), false);
      assert.equal(await isStale(event('1700000005'), redis, { prefix }), true);
    } finally {
      redis.disconnect();
    }
  });

  it('refuses a second deployment on the same prefix of the cluster', async () => {
    const other = await mkdtemp(join(tmpdir(), 'studyhook-cluster-other-'));
    try {
      await writeFile(
        join(other, 'studyhook.yml'),
        stringify({ dataDir: other, redis: { url: cluster.url, prefix }, archive: false }),
      );
      await assert.rejects(
        createGateway({
          config: loadConfig({ path: join(other, 'studyhook.yml'), env: {} }),
          roles: { api: false, worker: true },
          logger: createLogger({ level: 'silent' }),
        }),
        (err: Error & { code?: string }) => err.code === 'SH_DEPLOYMENT_CONFLICT',
      );
    } finally {
      await rm(other, { recursive: true, force: true });
    }
  });

  // why after the deployment test: this second gateway shares the first one's process, so its stop
  // releases the lease entry they share until the first one's next heartbeat.
  it('republishes a quarantined request into the cluster', async () => {
    const configFile = join(dir, 'limited.yml');
    const doc = parse(await readFile(join(t.dataDir, 'studyhook.yml'), 'utf8')) as Record<
      string,
      Record<string, unknown>
    >;
    await writeFile(
      configFile,
      stringify({ ...doc, server: { ...doc['server'], parseLimits: { maxValues: 1 } } }),
    );
    const kept = await createGateway({
      config: loadConfig({ path: configFile, env: {} }),
      roles: { api: true, worker: false },
      logger: createLogger({ level: 'silent' }),
    });
    const uploadId = `q-${randomUUID()}`;
    try {
      await request(kept.app!)
        .post('/sensorlogger/pilot')
        .send({ studyId: 'st', uploadId, secretCode: 'x' })
        .expect(422);
    } finally {
      await kept.close();
    }
    const error = console.error;
    console.error = () => undefined;
    try {
      assert.equal(
        await quarantine.run(['republish', '--config', join(t.dataDir, 'studyhook.yml')]),
        0,
      );
    } finally {
      console.error = error;
    }
    await waitFor('the republished event delivered', () =>
      readDeliveries(out(sinks[1]!)).some(
        (d) => (d.event['data'] as { uploadId: string }).uploadId === uploadId,
      ),
    );
  });

  it('spools while no node answers and drains into the cluster when they do again', async () => {
    for (const n of cluster.nodes) n.proc.kill('SIGSTOP');
    const uploadId = `sp-${randomUUID()}`;
    try {
      await request(t.gateway.app!)
        .post('/sensorlogger/pilot')
        .send({ studyId: 'st', uploadId, secretCode: 'x' })
        .expect(200);
      assert.ok(t.gateway.publisher.backlogBytes() > 0, 'the event waits in the spool');
    } finally {
      for (const n of cluster.nodes) n.proc.kill('SIGCONT');
    }
    await cluster.waitHealthy();
    for (const s of sinks)
      await waitFor(
        `the spooled event delivered to ${s}`,
        () =>
          readDeliveries(out(s)).some(
            (d) => (d.event['data'] as { uploadId: string }).uploadId === uploadId,
          ),
        30000,
      );
  });
});
