import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import request from 'supertest';
import { sinkQueueName } from '../src/queue/redis.js';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { recordingSink, startGateway, waitFor, type TestGateway } from './helpers/gateway.js';
import { freePort, stop, waitForRedis } from './helpers/processes.js';

/** What a primary says of its replicas: one `state=` per replica (wait_bgsave, send_bulk, online). */
async function replicaStates(port: number): Promise<string[]> {
  const r = new Redis(port);
  try {
    const info = await r.info('replication');
    return [...info.matchAll(/^slave\d+:.*state=(\w+)/gm)].map((m) => m[1]!);
  } finally {
    r.disconnect();
  }
}

/** Sends one Sensor Logger event; answers its id once it is known to be acknowledged from the spool. */
async function sendSpooled(t: TestGateway): Promise<string> {
  const body = { studyId: 'st', uploadId: `u-${randomUUID()}`, secretCode: 'x' };
  const res = await request(t.gateway.app!).post('/sensorlogger/pilot').send(body);
  assert.equal(res.status, 200);
  const id = (res.body as { id: string }).id;
  assert.ok(
    t.logs.some((l) => /spooled locally/.test(l) && l.includes(id)),
    'spooled',
  );
  return id;
}

// why: Sentinel (Redis 7.0) promotes a replica that never finished its first copy of the primary,
// so an event the primary alone has is lost with it. With waitReplicas, such a replica is waited for.
describe('waitReplicas with a replica still making its first copy of the primary', function () {
  this.timeout(60000);
  let dir: string;
  const procs: ChildProcess[] = [];
  let primaryPort: number;
  let t: TestGateway;
  const prefix = `{shr-${randomUUID().slice(0, 8)}}`;
  const out = (): string => join(dir, 'sink.jsonl');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'studyhook-replica-sync-'));
    primaryPort = await freePort();
    const replicaPort = await freePort();
    const node = async (name: string, port: number, extra: string[]): Promise<void> => {
      await mkdir(join(dir, name));
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir'];
      procs.push(spawn('redis-server', [...args, join(dir, name), ...extra], { stdio: 'ignore' }));
      await waitForRedis(port);
    };
    // why the delay: the primary holds the replica's first copy back until the test lets it go.
    await node('primary', primaryPort, ['--repl-diskless-sync-delay', '3600']);
    await node('replica', replicaPort, ['--replicaof', '127.0.0.1', String(primaryPort)]);
    await waitFor('the replica to attach', async () => {
      return (await replicaStates(primaryPort)).length === 1;
    });
    t = await startGateway({
      redis: {
        url: `redis://127.0.0.1:${primaryPort}`,
        prefix,
        waitReplicas: 1,
        waitTimeoutMs: 200,
      },
      archive: false,
      sinks: [{ name: 'rec', module: recordingSink, options: { file: out() } }],
    });
  });
  after(async () => {
    await t?.close();
    for (const p of procs) await stop(p, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('acknowledges an event only once the spool has it, until the replica is in sync; delivers it once', async () => {
    assert.deepEqual(await replicaStates(primaryPort), ['wait_bgsave']);
    const id = await sendSpooled(t);
    const primary = new Redis(primaryPort);
    await primary
      .config('SET', 'repl-diskless-sync-delay', '0')
      .finally(() => primary.disconnect());
    // why exactly once: the job reached the primary before WAIT failed, and the drain adds it again.
    await waitFor('the spool drained once the replica is in sync', () =>
      t.logs.some((l) => /spool drained into Redis/.test(l)),
    );
    await waitFor('the delivery', () => readDeliveries(out()).some((d) => d.event.id === id));
    const queue = new Queue(sinkQueueName('rec', prefix), {
      connection: { port: primaryPort },
      prefix,
    });
    try {
      const left = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
      assert.deepEqual(
        left,
        { wait: 0, active: 0, delayed: 0, prioritized: 0 },
        'nothing left to deliver',
      );
    } finally {
      await queue.close();
    }
    assert.equal(readDeliveries(out()).filter((d) => d.event.id === id).length, 1);
    assert.deepEqual(await replicaStates(primaryPort), ['online']);
  });
});

describe('a primary that refuses writes for want of replicas (min-replicas-to-write)', function () {
  this.timeout(60000);
  let dir: string;
  let proc: ChildProcess;
  let port: number;
  let t: TestGateway;
  const out = (): string => join(dir, 'sink.jsonl');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'studyhook-min-replicas-'));
    port = await freePort();
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir];
    proc = spawn('redis-server', args, { stdio: 'ignore' });
    await waitForRedis(port);
    t = await startGateway({
      redis: { url: `redis://127.0.0.1:${port}`, prefix: `{shm-${randomUUID().slice(0, 8)}}` },
      archive: false,
      sinks: [{ name: 'rec', module: recordingSink, options: { file: out() } }],
    });
  });
  after(async () => {
    await t?.close();
    if (proc) await stop(proc, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('spools what it acknowledges while the primary answers NOREPLICAS, and delivers it once writes are taken', async () => {
    const primary = new Redis(port);
    try {
      await primary.config('SET', 'min-replicas-to-write', '1');
      const id = await sendSpooled(t);
      await primary.config('SET', 'min-replicas-to-write', '0');
      await waitFor('the delivery', () => readDeliveries(out()).some((d) => d.event.id === id));
      assert.ok(!t.logs.some((l) => /set aside/.test(l)), 'nothing set aside');
    } finally {
      primary.disconnect();
    }
  });
});
