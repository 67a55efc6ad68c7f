import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { jobIdOf } from '../src/event/build-event.js';
import { sinkQueueName } from '../src/queue/redis.js';
import request from 'supertest';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { recordingSink, startGateway, waitFor, type TestGateway } from './helpers/gateway.js';
import { freePort, stop, waitForRedis } from './helpers/processes.js';

const NAME = 'studyhook-primary';

/** A redis-server (or, with `--sentinel`, a sentinel) on loopback, once it answers PING. */
async function redisServer(port: number, args: string[]): Promise<ChildProcess> {
  const proc = spawn('redis-server', args, { stdio: 'ignore' });
  await waitForRedis(port);
  return proc;
}

/** What the sentinel says of the primary: its port and how many replicas it knows of. */
async function sentinelView(port: number): Promise<{ primary: number; replicas: number }> {
  const s = new Redis(port);
  try {
    const addr = (await s.call('SENTINEL', 'get-master-addr-by-name', NAME)) as string[];
    const replicas = (await s.call('SENTINEL', 'replicas', NAME)) as unknown[];
    return { primary: Number(addr[1]), replicas: replicas.length };
  } finally {
    s.disconnect();
  }
}

/** Where each event's job is on the given node: its position in `acked` and its BullMQ state. */
async function jobStates(
  ids: string[],
  port: number,
  prefix: string,
  acked: string[],
): Promise<string> {
  const queue = new Queue(sinkQueueName('rec', prefix), { connection: { port }, prefix });
  try {
    const states = await Promise.all(
      ids.map(async (id) => {
        const job = await queue.getJob(jobIdOf(id));
        const state = job ? await job.getState() : 'no job';
        return `#${acked.indexOf(id)} ${id}: ${state} ${JSON.stringify(job?.stacktrace ?? [])}`;
      }),
    );
    return states.join('; ');
  } finally {
    await queue.close();
  }
}

describe('the gateway on Redis Sentinel (a primary, a replica and a sentinel on loopback)', function () {
  this.timeout(150000);
  let dir: string;
  let primary: ChildProcess;
  const procs: ChildProcess[] = [];
  let ports: { primary: number; replica: number; sentinel: number };
  let t: TestGateway;
  const prefix = `{shs-${randomUUID().slice(0, 8)}}`;
  const out = (): string => join(dir, 'sink.jsonl');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'studyhook-sentinel-'));
    ports = { primary: await freePort(), replica: await freePort(), sentinel: await freePort() };
    const node = async (name: string, port: number, extra: string[]): Promise<ChildProcess> => {
      await mkdir(join(dir, name));
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir'];
      return redisServer(port, [...args, join(dir, name), '--appendonly', 'yes', ...extra]);
    };
    // why no delay: the replica's first copy starts at once instead of after 5 s (Redis's default).
    primary = await node('primary', ports.primary, ['--repl-diskless-sync-delay', '0']);
    procs.push(primary);
    procs.push(
      await node('replica', ports.replica, ['--replicaof', '127.0.0.1', String(ports.primary)]),
    );
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
    procs.push(await redisServer(ports.sentinel, [conf, '--sentinel']));
    // A failover needs a replica the sentinel knows of; the test starts once the replica is in sync
    // (a replica still copying is waited for too, test/redis-replica-sync.test.ts, but slowly).
    await waitFor('the sentinel to know the replica', async () => {
      return (await sentinelView(ports.sentinel)).replicas === 1;
    });
    await waitFor('the replica to be in sync', async () => {
      const r = new Redis(ports.primary);
      const info = await r.info('replication').finally(() => r.disconnect());
      return /^slave0:.*state=online/m.test(info);
    });
    t = await startGateway({
      redis: {
        url: `redis+sentinel://127.0.0.1:${ports.sentinel}/${NAME}`,
        prefix,
        // why: an acknowledged event is on the replica too, so a failover cannot lose it.
        waitReplicas: 1,
      },
      server: { port: 0, host: '127.0.0.1', publishTimeoutMs: 1500 },
      archive: false,
      spool: { heartbeatMs: 200 },
      sinks: [{ name: 'rec', module: recordingSink, options: { file: out() } }],
    });
  });
  after(async () => {
    await t?.close();
    for (const p of procs) await stop(p, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  const send = async (): Promise<string | undefined> => {
    const body = { studyId: 'st', uploadId: `u-${randomUUID()}`, secretCode: 'x' };
    const res = await request(t.gateway.app!).post('/sensorlogger/pilot').send(body);
    return res.status === 200 ? (res.body as { id: string }).id : undefined;
  };
  const delivered = (): Set<string> => new Set(readDeliveries(out()).map((d) => d.event.id));

  it('finds the primary through the sentinel and delivers what it acknowledged', async () => {
    const id = await send();
    assert.ok(id, 'acknowledged');
    await waitFor('the delivery', () => delivered().has(id));
  });

  it('delivers every event it acknowledged across a failover to the promoted replica', async () => {
    const before = await send();
    assert.ok(before);
    await stop(primary, 'SIGKILL');
    // Sent while the sentinel notices the primary is gone and promotes the replica: each is
    // acknowledged (published, or spooled until the new primary answers) or refused, never lost.
    const acked: string[] = [before];
    for (let i = 0; i < 20; i++) {
      const id = await send();
      if (id) acked.push(id);
    }
    await waitFor(
      'the sentinel to promote the replica',
      async () => (await sentinelView(ports.sentinel)).primary === ports.replica,
      30000,
    );
    const after = await send();
    assert.ok(after, 'acknowledged on the promoted replica');
    acked.push(after);
    // why up to 90 s: a job a worker had taken from the old primary is active there, and comes back
    // to the queue once its lock lapses and the stalled-job check runs (30 s each by default).
    await waitFor(
      'every acknowledged event delivered',
      () => acked.every((id) => delivered().has(id)),
      90000,
    ).catch(async (err: Error) => {
      // why: say which ones and what the spool did with them, should this ever fail in CI.
      const missing = acked.filter((id) => !delivered().has(id));
      const spool = t.logs.filter((l) => /spool/.test(l)).join('');
      const states = await jobStates(missing, ports.replica, prefix, acked);
      throw new Error(
        `${err.message}: ${missing.length} of ${acked.length} missing (${states})\n${spool}`,
      );
    });
    assert.ok(!t.logs.some((l) => /set aside/.test(l)), 'no acknowledged event set aside');
    assert.ok(acked.length >= 2);
  });
});
