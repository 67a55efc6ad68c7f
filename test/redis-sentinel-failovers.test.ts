import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import request from 'supertest';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { recordingSink, startGateway, waitFor, type TestGateway } from './helpers/gateway.js';
import {
  SENTINEL_NAME,
  sentinelView,
  startSentinelSet,
  stopSentinelSet,
  type SentinelSet,
} from './helpers/sentinel.js';

/** This process's TCP connections (local port) to any of `ports` on loopback, from /proc. */
async function socketsTo(ports: number[]): Promise<number[]> {
  const inodes = new Set<string>();
  for (const fd of await readdir('/proc/self/fd')) {
    const link = await readlink(`/proc/self/fd/${fd}`).catch(() => '');
    const m = /^socket:\[(\d+)\]$/.exec(link);
    if (m) inodes.add(m[1]!);
  }
  const local: number[] = [];
  for (const file of ['/proc/self/net/tcp', '/proc/self/net/tcp6']) {
    const text = await readFile(file, 'utf8').catch(() => '');
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 10 || !inodes.has(f[9]!)) continue;
      const lport = parseInt(f[1]!.split(':')[1]!, 16);
      const rport = parseInt(f[2]!.split(':')[1]!, 16);
      // 01 established, 02 syn-sent
      if (ports.includes(rport) && (f[3] === '01' || f[3] === '02')) local.push(lport);
    }
  }
  return local;
}

/** The CLIENT LIST entries of every server of the set whose peer is one of `localPorts`. */
async function clientsOf(set: SentinelSet, localPorts: number[]): Promise<string[]> {
  const out: string[] = [];
  for (const port of [set.primary.port, set.replica.port, ...set.sentinels.map((s) => s.port)]) {
    const r = new Redis(port, {
      lazyConnect: true,
      retryStrategy: () => null,
      // why: a frozen sentinel takes the connection and never answers
      commandTimeout: 1000,
      connectTimeout: 1000,
    });
    r.on('error', () => undefined);
    try {
      await r.connect();
      const list = String(await r.call('CLIENT', 'LIST'));
      for (const l of list.split('\n')) {
        const m = /addr=127\.0\.0\.1:(\d+)/.exec(l);
        if (m && localPorts.includes(Number(m[1]))) out.push(`${port}: ${l.trim()}`);
      }
    } catch {
      out.push(`${port}: no answer (down or frozen)`);
    } finally {
      r.disconnect();
    }
  }
  return out;
}

/**
 * Waits until this process holds no connection to the set (a question to a frozen sentinel ends
 * within its 2 s time-out), then watches for 3 s (six times the 500 ms after which a connection that
 * ended by itself is opened again) that none is opened again.
 */
async function noConnectionLeft(set: SentinelSet, ports: number[]): Promise<void> {
  await waitFor(
    'no connection left to the set',
    async () => (await socketsTo(ports)).length === 0,
    10000,
  ).catch(async (err: Error) => {
    throw new Error(
      `${err.message}:\n${(await clientsOf(set, await socketsTo(ports))).join('\n')}`,
    );
  });
  const end = Date.now() + 3000;
  while (Date.now() < end) {
    const open = await socketsTo(ports);
    if (open.length > 0)
      assert.fail(`opened again after close:\n${(await clientsOf(set, open)).join('\n')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('the gateway on Redis Sentinel across repeated failovers, then closed', function () {
  this.timeout(240000);
  let dir: string;
  let set: SentinelSet;
  let t: TestGateway | undefined;
  const out = (): string => join(dir, 'sink.jsonl');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'studyhook-sentinel-flip-'));
    set = await startSentinelSet(dir, 1, 1);
    t = await startGateway({
      redis: { url: set.url, prefix: `{shf-${randomUUID().slice(0, 8)}}`, waitReplicas: 1 },
      server: { port: 0, host: '127.0.0.1', publishTimeoutMs: 1500 },
      archive: false,
      spool: { heartbeatMs: 200 },
      sinks: [{ name: 'rec', module: recordingSink, options: { file: out() } }],
    });
  });
  after(async () => {
    await t?.close();
    await stopSentinelSet(set);
    await rm(dir, { recursive: true, force: true });
  });

  it('delivers every acknowledged event over three failovers back and forth under traffic, and leaves no connection open once closed', async () => {
    const ports = [set.primary.port, set.replica.port, ...set.sentinels.map((s) => s.port)];
    const acked: string[] = [];
    let refused = 0;
    let stop = false;
    const sender = async (): Promise<void> => {
      while (!stop) {
        const body = { studyId: 'st', uploadId: `u-${randomUUID()}`, secretCode: 'x' };
        const res = await request(t!.gateway.app!).post('/sensorlogger/pilot').send(body);
        if (res.status === 200) acked.push((res.body as { id: string }).id);
        else refused++;
      }
    };
    const senders = [sender(), sender(), sender()];
    const sentinel = set.sentinels[0]!.port;
    let primary = set.primary.port;
    for (let i = 0; i < 3; i++) {
      const other = primary === set.primary.port ? set.replica.port : set.primary.port;
      // the replica must be in sync, and known to the sentinel, before it can be promoted
      await waitFor(
        'the replica in sync',
        async () => {
          const r = new Redis(primary);
          const info = await r.info('replication').finally(() => r.disconnect());
          return (
            /^slave0:.*state=online/m.test(info) && (await sentinelView(sentinel)).replicas === 1
          );
        },
        30000,
      );
      const s = new Redis(sentinel);
      await waitFor(
        'SENTINEL FAILOVER accepted',
        () =>
          s
            .call('SENTINEL', 'FAILOVER', SENTINEL_NAME)
            .then(() => true)
            .catch(() => false),
        30000,
      );
      s.disconnect();
      await waitFor(
        `failover ${i + 1} to ${other}`,
        async () => (await sentinelView(sentinel)).primary === other,
        30000,
      );
      primary = other;
      const n = acked.length;
      await waitFor('traffic acknowledged on the new primary', () => acked.length >= n + 5, 30000);
    }
    stop = true;
    await Promise.all(senders);
    await waitFor(
      'every acknowledged event delivered',
      () => {
        const got = new Set(readDeliveries(out()).map((d) => d.event.id));
        return acked.every((id) => got.has(id));
      },
      90000,
    );
    const counts = new Map<string, number>();
    for (const d of readDeliveries(out()))
      counts.set(d.event.id, (counts.get(d.event.id) ?? 0) + 1);
    const twice = acked.filter((id) => (counts.get(id) ?? 0) !== 1);
    const lost = acked.filter((id) => (counts.get(id) ?? 0) === 0);
    assert.deepEqual(lost, [], 'no acknowledged event lost');
    // why printed, not asserted: a job a worker completed on the old primary after its replica was
    // promoted is still waiting on the new one, and is delivered again there (at-least-once, see
    // docs/reliability.md); what must never happen is an acknowledged event delivered not at all.
    console.log(
      `      acknowledged ${acked.length}, refused ${refused}, delivered ${counts.size}, delivered more than once ${twice.length}`,
    );

    assert.ok((await socketsTo(ports)).length > 0, 'the gateway holds connections before close');
    await t!.close();
    t = undefined;
    await noConnectionLeft(set, ports);
  });
});
