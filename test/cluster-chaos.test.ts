import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { startRedisCluster, type LocalCluster } from '../scripts/redis-cluster.js';
import { openQueue } from '../src/queue/redis.js';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { recordingSink, waitFor } from './helpers/gateway.js';
import { freePort, spawnStudyhook, stop, type Studyhook } from './helpers/processes.js';

const EVENTS = 600;
const CONCURRENCY = 8;

describe('chaos: an API replica and a Redis primary killed under load', function () {
  this.timeout(300000);
  let dir: string;
  let cluster: LocalCluster;
  const procs: Studyhook[] = [];
  after(async () => {
    for (const p of procs) await stop(p.proc, 'SIGKILL');
    await cluster?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it("loses no acknowledged event: every one is delivered once the replica took over and the other API drained the dead one's spool", async () => {
    dir = await mkdtemp(join(tmpdir(), 'studyhook-chaos-'));
    cluster = await startRedisCluster({ dir: join(dir, 'redis') });
    const out = join(dir, 'delivered.jsonl');
    const ports = [await freePort(), await freePort()];
    const prefix = `chaos-${randomUUID().slice(0, 8)}`;
    const write = async (port: number): Promise<string> => {
      const file = join(dir, `api-${port}.yml`);
      await writeFile(
        file,
        stringify({
          dataDir: join(dir, 'data'),
          archive: false,
          log: { level: 'warn' },
          redis: { url: cluster.url, prefix, waitReplicas: 1, waitTimeoutMs: 1000 },
          server: {
            port,
            host: '127.0.0.1',
            publishTimeoutMs: 2000,
            rateLimit: { enabled: false },
          },
          spool: { heartbeatMs: 200 },
          workers: { stalledIntervalMs: 2000 },
          sinks: [{ name: 'rec', module: recordingSink, options: { file: out } }],
        }),
      );
      return file;
    };
    const configs = [await write(ports[0]!), await write(ports[1]!)];
    const apis = configs.map((c) => spawnStudyhook('api', c));
    const worker = spawnStudyhook('worker', configs[1]!);
    procs.push(...apis, worker);
    const healthy = async (port: number): Promise<boolean> => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
      } catch {
        return false;
      }
    };
    for (const p of ports) await waitFor(`API on ${p}`, () => healthy(p), 120000);

    // The primary that serves the sink's queue ({sink-rec}): killing it forces a failover of the slot every job goes to.
    const probe = new Redis(cluster.nodes[0]!.port, '127.0.0.1');
    const victim = await cluster.nodeOfSlot(Number(await probe.cluster('KEYSLOT', '{sink-rec}')));
    probe.disconnect();

    const acked = new Set<string>();
    let sent = 0;
    let killed = false;
    const send = async (): Promise<void> => {
      for (;;) {
        const n = sent++;
        if (n >= EVENTS) return;
        if (!killed && n >= EVENTS / 3) {
          killed = true;
          apis[0]!.proc.kill('SIGKILL');
          victim.proc.kill('SIGKILL');
        }
        const port = killed ? ports[1]! : ports[n % 2]!;
        const uploadId = `u-${n}`;
        try {
          const res = await fetch(`http://127.0.0.1:${port}/sensorlogger/chaos`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ studyId: 'chaos', uploadId, secretCode: 'x' }),
          });
          await res.text();
          if (res.status === 200) acked.add(uploadId);
        } catch {
          /* not acknowledged: the platform would see the failure */
        }
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, send));
    await cluster.waitHealthy(60000);
    const delivered = (): Set<string> =>
      new Set(readDeliveries(out).map((d) => (d.event['data'] as { uploadId: string }).uploadId));
    const q = openQueue('rec', cluster.url, prefix);
    // why: done is a state, not a time: every acknowledged event delivered, or nothing left anywhere
    // that could still deliver one (the surviving API's spool empty, the sink's queue idle, twice in
    // a row). The cap only bounds a hung run; a loaded machine drains slowly, not wrongly.
    const settled = async (): Promise<boolean> => {
      const got = delivered();
      if ([...acked].every((id) => got.has(id))) return true;
      const ready = (await (await fetch(`http://127.0.0.1:${ports[1]!}/readyz`)).json()) as {
        spoolBytes: number;
      };
      const c = await q.getJobCounts(
        'waiting',
        'active',
        'delayed',
        'prioritized',
        'waiting-children',
      );
      return ready.spoolBytes === 0 && Object.values(c).every((n) => n === 0);
    };
    await waitFor(
      'the acknowledged events delivered, or nothing left to deliver',
      async () => (await settled()) && (await settled()),
      150000,
    ).catch(() => undefined);
    const got = delivered();
    const lost = [...acked].filter((id) => !got.has(id));
    if (lost.length > 0) {
      const ready = await (
        await fetch(`http://127.0.0.1:${ports[1]!}/readyz`)
      )
        .text()
        .catch((e: unknown) => String(e));
      const spool = await readdir(join(dir, 'data', 'spool')).catch(() => []);
      process.stderr.write(
        `chaos diagnostics: queue ${JSON.stringify(await q.getJobCounts())}; api2 /readyz ${ready}; spool dir ${JSON.stringify(spool)}\nworker: ${worker.output().slice(-3000)}\napi2: ${apis[1]!.output().slice(-3000)}\n`,
      );
    }
    await q.close();
    process.stdout.write(
      `      (sent ${EVENTS}, acknowledged ${acked.size}, delivered ${[...acked].filter((id) => got.has(id)).length}, lost ${lost.length})\n`,
    );
    assert.ok(
      acked.size > EVENTS / 2,
      `only ${acked.size} of ${EVENTS} acknowledged: the surviving API did not carry the load`,
    );
    assert.equal(
      lost.length,
      0,
      `${lost.length} acknowledged events never delivered, e.g. ${lost.slice(0, 5).join(', ')} (diagnostics above)`,
    );
  });
});
