import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { fixtures, recordingSink, waitFor } from './helpers/gateway.js';
import { settled } from './helpers/queue-state.js';
import { freePort, spawnStudyhook, startRedis, stop, type Studyhook } from './helpers/processes.js';

/** The environment that makes a spawned studyhook believe it runs on host `name` (fixtures/other-host.cjs). */
const onHost = (name: string): Record<string, string> => ({
  STUDYHOOK_TEST_HOSTNAME: name,
  NODE_OPTIONS:
    `${process.env['NODE_OPTIONS'] ?? ''} --require ${join(fixtures, 'other-host.cjs')}`.trim(),
});

/** GET /readyz of an API: its spool backlog and whether it reaches Redis, or undefined when it does not answer. */
async function readyz(port: number): Promise<{ redis: boolean; spoolBytes: number } | undefined> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/readyz`);
    return (await res.json()) as { redis: boolean; spoolBytes: number };
  } catch {
    return undefined;
  }
}

describe('an API process frozen while spooling, whose journal a replica on another host takes over', () => {
  it('delivers exactly once every call it acknowledged, those in flight when it froze included', async function () {
    this.timeout(120000);
    const dir = await mkdtemp(join(tmpdir(), 'studyhook-frozen-'));
    const [redisPort, portA, portB] = [await freePort(), await freePort(), await freePort()];
    const out = join(dir, 'delivered.jsonl');
    const spool = join(dir, 'data', 'spool');
    const config = async (name: string, port: number): Promise<string> => {
      const file = join(dir, `${name}.yml`);
      await writeFile(
        file,
        stringify({
          dataDir: join(dir, 'data'),
          archive: false,
          log: { level: 'info' },
          redis: { url: `redis://127.0.0.1:${redisPort}`, prefix: '{frozen}' },
          server: { port, host: '127.0.0.1', publishTimeoutMs: 300 },
          spool: { heartbeatMs: 100, orphanAfterMs: 1000 },
          workers: { stalledIntervalMs: 1000, lockDurationMs: 2000 },
          sinks: [{ name: 'rec', module: recordingSink, options: { file: out } }],
        }),
      );
      return file;
    };
    const up = (port: number): Promise<unknown> =>
      waitFor(
        `the API on ${port} to answer`,
        async () => (await readyz(port)) !== undefined,
        30000,
      );

    const acked: string[] = [];
    const pending = new Set<string>();
    let sent = 0;
    const post = async (uploadId: string): Promise<void> => {
      sent++;
      pending.add(uploadId);
      try {
        const res = await fetch(`http://127.0.0.1:${portA}/sensorlogger/study`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ studyId: 's', uploadId, secretCode: 'c' }),
        });
        await res.arrayBuffer();
        if (res.status === 200) acked.push(uploadId);
      } catch {
        /* not acknowledged: the platform would retry */
      } finally {
        pending.delete(uploadId);
      }
    };

    let redis: ChildProcess | undefined;
    let a: Studyhook | undefined;
    let b: Studyhook | undefined;
    try {
      redis = await startRedis(redisPort, dir);
      a = spawnStudyhook('api', await config('a', portA), onHost('host-a'));
      b = spawnStudyhook('start', await config('b', portB), onHost('host-b'));
      await Promise.all([up(portA), up(portB)]);
      await stop(redis, 'SIGKILL');
      redis = undefined;

      // Redis away: A spools.
      for (let i = 0; i < 20; i++) await post(`before-${i}`);
      assert.equal(acked.length, 20, 'calls spooled and acknowledged while Redis is away');
      // A burst that A reads at once: when its first reply comes, the others are inside their append
      // (past the "was I silent?" check, their write queued behind the one answered, or in flight).
      // A is frozen right then, as a process paused by its VM or stuck on a hung disk would be.
      const burst = Array.from({ length: 32 }, (_, i) => post(`burst-${i}`));
      await Promise.race(burst);
      a.proc.kill('SIGSTOP');
      const inFlight = pending.size;
      const ackedBeforeFreeze = acked.length;
      assert.ok(inFlight > 0, 'A was frozen with calls not yet answered');

      // B sees A's heartbeat stand still, takes A's journal, and once Redis is back drains and removes it.
      const adopted = join(spool, `host-a-${a.proc.pid}.jsonl.adopted-host-b-${b.proc.pid}`);
      await waitFor("B to adopt frozen A's journal", () => existsSync(adopted), 30000);
      redis = await startRedis(redisPort, dir);
      await waitFor("B to drain A's journal and remove it", () => !existsSync(adopted), 30000);

      a.proc.kill('SIGCONT');
      await Promise.all(burst);
      await waitFor(
        'both APIs back on Redis with nothing left in their spool',
        async () =>
          (await Promise.all([readyz(portA), readyz(portB)])).every(
            (r) => r?.redis === true && r.spoolBytes === 0,
          ),
        30000,
      );
      await settled(
        { prefix: '{frozen}', redisUrl: `redis://127.0.0.1:${redisPort}` },
        'rec',
        30000,
      );

      const ids = readDeliveries(out).map(
        (d) => (d.event['data'] as { uploadId: string }).uploadId,
      );
      const lost = acked.filter((id) => !ids.includes(id));
      const duplicates = ids.length - new Set(ids).size;
      console.log(
        `      frozen writer: sent ${sent}, acknowledged ${acked.length} (${acked.length - ackedBeforeFreeze} of the ${inFlight} in flight at the freeze), delivered ${new Set(ids).size} distinct (${ids.length} deliveries), lost ${lost.length}, duplicates ${duplicates}`,
      );
      assert.deepEqual(lost, [], 'every acknowledged call is delivered');
      assert.equal(duplicates, 0, 'each event delivered once');
    } finally {
      for (const p of [a, b]) if (p) await stop(p.proc, 'SIGKILL');
      if (redis) await stop(redis, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
