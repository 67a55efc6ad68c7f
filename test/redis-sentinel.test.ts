import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { jobIdOf } from '../src/event/build-event.js';
import { sinkQueueName } from '../src/queue/redis.js';
import request from 'supertest';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { recordingSink, startGateway, waitFor, type TestGateway } from './helpers/gateway.js';
import { stop } from './helpers/processes.js';
import {
  sentinelView,
  startSentinelSet,
  stopSentinelSet,
  type SentinelSet,
} from './helpers/sentinel.js';

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
  let set: SentinelSet;
  let t: TestGateway;
  const prefix = `{shs-${randomUUID().slice(0, 8)}}`;
  const out = (): string => join(dir, 'sink.jsonl');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'studyhook-sentinel-'));
    set = await startSentinelSet(dir, 1, 1);
    t = await startGateway({
      redis: {
        url: set.url,
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
    await stopSentinelSet(set);
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
    await stop(set.primary.proc, 'SIGKILL');
    // Sent while the sentinel notices the primary is gone and promotes the replica: each is
    // acknowledged (published, or spooled until the new primary answers) or refused, never lost.
    const acked: string[] = [before];
    for (let i = 0; i < 20; i++) {
      const id = await send();
      if (id) acked.push(id);
    }
    await waitFor(
      'the sentinel to promote the replica',
      async () => (await sentinelView(set.sentinels[0]!.port)).primary === set.replica.port,
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
      const states = await jobStates(missing, set.replica.port, prefix, acked);
      throw new Error(
        `${err.message}: ${missing.length} of ${acked.length} missing (${states})\n${spool}`,
      );
    });
    assert.ok(!t.logs.some((l) => /set aside/.test(l)), 'no acknowledged event set aside');
    assert.ok(acked.length >= 2);
  });
});

describe('the gateway on Redis Sentinel when the sentinel it asked first stops answering', function () {
  this.timeout(120000);
  let dir: string;
  let set: SentinelSet;
  let t: TestGateway;
  const out = (): string => join(dir, 'sink.jsonl');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'studyhook-sentinel-hung-'));
    // why three, quorum two: the two left can still agree and promote the replica.
    set = await startSentinelSet(dir, 3, 2);
    t = await startGateway({
      redis: { url: set.url, prefix: `{shh-${randomUUID().slice(0, 8)}}`, waitReplicas: 1 },
      server: { port: 0, host: '127.0.0.1', publishTimeoutMs: 1500 },
      archive: false,
      sinks: [{ name: 'rec', module: recordingSink, options: { file: out() } }],
    });
  });
  after(async () => {
    await t?.close();
    await stopSentinelSet(set);
    await rm(dir, { recursive: true, force: true });
  });

  it('asks the other sentinels, finds the promoted replica and delivers every acknowledged event', async () => {
    const send = async (): Promise<string> => {
      const body = { studyId: 'st', uploadId: `u-${randomUUID()}`, secretCode: 'x' };
      const res = await request(t.gateway.app!).post('/sensorlogger/pilot').send(body);
      assert.equal(res.status, 200);
      return (res.body as { id: string }).id;
    };
    const delivered = (id: string) => readDeliveries(out()).some((d) => d.event.id === id);
    const first = await send();
    await waitFor('the first delivery', () => delivered(first));
    // The first sentinel named in the URL (the one every connection asked) freezes, then the
    // primary dies; the other two promote the replica while every reconnect asks the frozen one.
    set.sentinels[0]!.proc.kill('SIGSTOP');
    await stop(set.primary.proc, 'SIGKILL');
    const during = await send();
    await waitFor(
      'the other sentinels to promote the replica',
      async () => (await sentinelView(set.sentinels[1]!.port)).primary === set.replica.port,
      30000,
    );
    const after = await send();
    await waitFor('both events delivered', () => delivered(during) && delivered(after), 60000);
  });
});
