import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import request from 'supertest';
import { sinkQueueName } from '../src/queue/redis.js';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { recordingSink, startGateway, waitFor, type TestGateway } from './helpers/gateway.js';
import { freePort, stop, waitForRedis } from './helpers/processes.js';
import { prolificSignature } from './helpers/sign.js';

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

/** What a sentinel says of the primary it monitors as `name`: its port and how many replicas it knows of. */
async function sentinelView(
  port: number,
  name: string,
): Promise<{ primary: number; replicas: number }> {
  const s = new Redis(port);
  try {
    const addr = (await s.call('SENTINEL', 'get-master-addr-by-name', name)) as string[];
    const replicas = (await s.call('SENTINEL', 'replicas', name)) as unknown[];
    return { primary: Number(addr[1]), replicas: replicas.length };
  } finally {
    s.disconnect();
  }
}

// why: the publisher asks a primary how many replicas it has at most once a second. A count of 0
// taken just before a replica attached was reused for up to a second after: an event published
// then was acknowledged from the primary alone, and Sentinel promotes that replica, still empty.
describe('waitReplicas right after a replica attaches to a primary that had none (Sentinel)', function () {
  this.timeout(90000);
  const NAME = 'shr-attach';
  let dir: string;
  const procs: ChildProcess[] = [];
  let primary: ChildProcess;
  let ports: { primary: number; replica: number; sentinel: number };
  let api: TestGateway | undefined;
  let worker: TestGateway | undefined;
  const prefix = `{sha-${randomUUID().slice(0, 8)}}`;
  const out = (): string => join(dir, 'sink.jsonl');
  const redisConfig = (): Record<string, unknown> => ({
    url: `redis+sentinel://127.0.0.1:${ports.sentinel}/${NAME}`,
    prefix,
    deploymentId: `sha-${prefix.slice(5, 13)}`,
    waitReplicas: 1,
    waitTimeoutMs: 200,
  });
  const sinks = (): Record<string, unknown>[] => [
    { name: 'rec', module: recordingSink, options: { file: out() } },
  ];

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'studyhook-replica-attach-'));
    ports = { primary: await freePort(), replica: await freePort(), sentinel: await freePort() };
    const node = async (name: string, port: number, extra: string[]): Promise<ChildProcess> => {
      await mkdir(join(dir, name));
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir'];
      const p = spawn('redis-server', [...args, join(dir, name), ...extra], { stdio: 'ignore' });
      procs.push(p);
      await waitForRedis(port);
      return p;
    };
    // why the delay: the replica, once attached, stays empty (its first copy is held back).
    primary = await node('primary', ports.primary, ['--repl-diskless-sync-delay', '3600']);
    await node('replica', ports.replica, []); // not a replica yet
    const conf = join(dir, 'sentinel.conf');
    await writeFile(
      conf,
      [
        `port ${ports.sentinel}`,
        'bind 127.0.0.1',
        `sentinel monitor ${NAME} 127.0.0.1 ${ports.primary} 1`,
        `sentinel down-after-milliseconds ${NAME} 1000`,
        `sentinel failover-timeout ${NAME} 5000`,
        '',
      ].join('\n'),
    );
    procs.push(spawn('redis-server', [conf, '--sentinel'], { stdio: 'ignore' }));
    await waitForRedis(ports.sentinel);
    // The API alone: nothing is delivered (and so taken off the primary) before the failover.
    api = await startGateway(
      {
        redis: redisConfig(),
        server: { port: 0, host: '127.0.0.1', publishTimeoutMs: 1500 },
        archive: false,
        spool: { heartbeatMs: 200 },
        sinks: sinks(),
      },
      { roles: { api: true, worker: false } },
    );
  });
  after(async () => {
    await api?.close();
    await worker?.close();
    for (const p of procs) await stop(p, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('waits for the replica from the first publish after it attached; the event survives its promotion', async () => {
    const send = async (): Promise<string> => {
      const body = { studyId: 'st', uploadId: `u-${randomUUID()}`, secretCode: 'x' };
      const res = await request(api!.gateway.app!).post('/sensorlogger/pilot').send(body);
      assert.equal(res.status, 200);
      return (res.body as { id: string }).id;
    };
    // No replica yet: published and acknowledged from the primary alone, as documented (and lost
    // below with the primary, which is why only the next event is the test's).
    const first = await send();
    assert.ok(!api!.logs.some((l) => l.includes(first) && /spooled locally/.test(l)));
    const since = performance.now();
    const replica = new Redis(ports.replica);
    await replica.replicaof('127.0.0.1', String(ports.primary)).finally(() => replica.disconnect());
    await waitFor(
      'the replica to attach',
      async () => (await replicaStates(ports.primary)).length === 1,
    );
    const attachedAfterMs = Math.round(performance.now() - since);
    assert.deepEqual(await replicaStates(ports.primary), ['wait_bgsave']);
    // The primary has a replica (still empty): the event must not be acknowledged from the primary alone.
    const id = await send();
    assert.ok(
      api!.logs.some((l) => l.includes(id) && /spooled locally/.test(l)),
      `acknowledged without the replica (it had attached ${attachedAfterMs} ms after the last count)`,
    );
    await waitFor(
      'the sentinel to know the replica',
      async () => (await sentinelView(ports.sentinel, NAME)).replicas === 1,
      20000,
    );
    await stop(primary, 'SIGKILL');
    await waitFor(
      'the sentinel to promote the replica',
      async () => (await sentinelView(ports.sentinel, NAME)).primary === ports.replica,
      30000,
    );
    worker = await startGateway(
      { redis: redisConfig(), archive: false, sinks: sinks() },
      { roles: { api: false, worker: true } },
    );
    await waitFor(
      'the event delivered from the promoted replica',
      () => readDeliveries(out()).some((d) => d.event.id === id),
      30000,
    );
    assert.equal(readDeliveries(out()).filter((d) => d.event.id === id).length, 1);
    assert.ok(!api!.logs.some((l) => /set aside/.test(l)), 'nothing set aside');
  });
});

// why: the publisher drops a signed request resent under a new event id when the first id's job is
// in Redis. That job may be on the primary alone (its own publish was refused when WAIT timed out),
// so the resend's answer must wait for the replicas too, though it adds no job.
describe('waitReplicas and a signed request resent under another event id (spool off)', function () {
  this.timeout(60000);
  const SECRET = 'prolific-replica-secret';
  let dir: string;
  const procs: ChildProcess[] = [];
  let primaryPort: number;
  let replicaPort: number;
  let t: TestGateway;
  const prefix = `{shp-${randomUUID().slice(0, 8)}}`;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'studyhook-replica-replay-'));
    primaryPort = await freePort();
    replicaPort = await freePort();
    const node = async (name: string, port: number, extra: string[]): Promise<void> => {
      await mkdir(join(dir, name));
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir'];
      procs.push(spawn('redis-server', [...args, join(dir, name), ...extra], { stdio: 'ignore' }));
      await waitForRedis(port);
    };
    // why the delay: the primary holds the replica's first copy back, so WAIT times out.
    await node('primary', primaryPort, ['--repl-diskless-sync-delay', '3600']);
    await node('replica', replicaPort, ['--replicaof', '127.0.0.1', String(primaryPort)]);
    await waitFor('the replica to attach', async () => {
      return (await replicaStates(primaryPort)).length === 1;
    });
    t = await startGateway(
      {
        redis: {
          url: `redis://127.0.0.1:${primaryPort}`,
          prefix,
          waitReplicas: 1,
          waitTimeoutMs: 200,
        },
        archive: false,
        spool: { enabled: false },
        platforms: { prolific: { namespaces: { lab: { secrets: [SECRET] } } } },
        sinks: [{ name: 'rec', module: recordingSink, options: { file: join(dir, 'sink.jsonl') } }],
      },
      // why no worker: a job delivered from the primary before the failover would hide its loss.
      { roles: { api: true, worker: false } },
    );
  });
  after(async () => {
    await t?.close();
    for (const p of procs) await stop(p, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('answers the resend 503 while the replica does not have the first one, never 200', async () => {
    const body = JSON.stringify({
      event_type: 'submission.status.change',
      resource_id: `sub-${randomUUID()}`,
      participant_id: 'p-1',
      study_id: 'st-1',
      status: 'APPROVED',
    });
    const ts = String(Math.floor(Date.now() / 1000));
    const headers = {
      'content-type': 'application/json',
      'x-prolific-request-timestamp': ts,
      'x-prolific-request-signature': prolificSignature(SECRET, ts, body),
    };
    const send = (eventId: string): Promise<number> =>
      request(t.gateway.app!)
        .post('/prolific/lab')
        .set({ ...headers, 'x-event-id': eventId })
        .send(body)
        .then((r) => r.status);
    assert.deepEqual(await replicaStates(primaryPort), ['wait_bgsave']);
    // Its job is written to the primary, but the replica does not confirm it: 503.
    assert.equal(await send('evt-first'), 503);
    // The platform sends the request again under a new id: no new job, but the first is still on
    // the primary alone (a failover now would lose it), so this is not an acknowledgement either.
    assert.equal(await send('evt-again'), 503);
    assert.deepEqual(await replicaStates(primaryPort), ['wait_bgsave']);
  });
});
