import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { readJsonLines } from './fixtures/sinks/recording-sink.js';
import { fixtures, waitFor } from './helpers/gateway.js';
import { freePort, spawnStudyhook, startRedis, stop, type Studyhook } from './helpers/processes.js';
import { settled } from './helpers/queue-state.js';

const SECRET = 'fault-secret-code-7f3a9c';

const delivered = (file: string) =>
  readJsonLines<{ id: string; uploadId: string; secrets: Record<string, string> }>(file);

describe('fault suite: nothing acknowledged is lost', () => {
  it('delivers every acknowledged Sensor Logger call through worker kills, Redis restarts, a Redis outage and a failing sink', async function () {
    this.timeout(170000);
    const dir = await mkdtemp(join(tmpdir(), 'studyhook-faults-'));
    const [redisPort, apiPort] = [await freePort(), await freePort()];
    const out = join(dir, 'delivered.jsonl');
    const failFlag = join(dir, 'sink-down');
    const config = join(dir, 'studyhook.yml');
    await writeFile(
      config,
      stringify({
        dataDir: dir,
        archive: false,
        log: { level: 'info' },
        redis: { url: `redis://127.0.0.1:${redisPort}`, prefix: '{faults}' },
        server: {
          port: apiPort,
          host: '127.0.0.1',
          publishTimeoutMs: 500,
          shutdownTimeoutMs: 5000,
        },
        // why 5 s locks: the jobs of the SIGKILLed worker come back after their lock expires (30 s by default).
        workers: { stalledIntervalMs: 1000, lockDurationMs: 5000 },
        platforms: { sensorlogger: { namespaces: { study: { secretCodes: [SECRET] } } } },
        sinks: [
          {
            name: 'rec',
            module: join(fixtures, 'sinks', 'switch-sink.ts'),
            options: { file: out, failWhile: failFlag, delayMs: 10 },
            attempts: 200,
            backoff: { type: 'fixed', delayMs: 300 },
            concurrency: 4,
          },
        ],
      }),
    );
    let redis: ChildProcess = await startRedis(redisPort, dir);
    const api = spawnStudyhook('api', config);
    // why two workers from the start: one is killed mid-delivery, the other takes its jobs back (a
    // worker started only after the kill would spend its start-up time, not the fault, in the test).
    const workers: Studyhook[] = [
      spawnStudyhook('worker', config),
      spawnStudyhook('worker', config),
    ];
    const [doomed, worker] = workers as [Studyhook, Studyhook];
    const url = `http://127.0.0.1:${apiPort}/sensorlogger/study`;
    await waitFor(
      'the API to answer',
      async () => {
        try {
          return (await fetch(`http://127.0.0.1:${apiPort}/healthz`)).ok;
        } catch {
          return false;
        }
      },
      20000,
    );
    await waitFor(
      'both workers running',
      () => workers.every((w) => w.output().includes('studyhook worker running')),
      30000,
    );

    const acked = new Set<string>();
    let sent = 0;
    let refused = 0;
    let loading = true;
    // why closed loop: one request at a time, each sent once the previous one was answered, so the
    // load keeps up with the gateway whatever the machine, and no pause has to be guessed.
    const load = (async () => {
      for (let i = 0; loading; i++) {
        const uploadId = `u-${i}`;
        sent++;
        await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ studyId: 'faults', uploadId, secretCode: SECRET }),
        }).then(
          async (res) => {
            await res.arrayBuffer();
            if (res.status === 200) acked.add(uploadId);
            else refused++;
          },
          () => {
            refused++;
          },
        );
      }
    })();
    // Each fault starts once the load has made progress since the previous one (acknowledged calls,
    // deliveries), so every phase sees traffic, however fast this machine is.
    const progress = async (what: string, more: { acked?: number; delivered?: number }) => {
      const [a, d] = [acked.size, delivered(out).length];
      await waitFor(
        what,
        () =>
          acked.size >= a + (more.acked ?? 0) && delivered(out).length >= d + (more.delivered ?? 0),
        60000,
      );
    };
    try {
      await progress('deliveries under load', { acked: 40, delivered: 20 });
      await stop(doomed.proc, 'SIGKILL'); // mid-delivery: its active jobs must come back (stalled)
      await progress('the other worker delivering', { acked: 20, delivered: 20 });
      await stop(redis, 'SIGKILL'); // Redis restart: AOF with appendfsync always keeps every acknowledged job
      redis = await startRedis(redisPort, dir);
      await progress('deliveries after the Redis restart', { acked: 20, delivered: 20 });
      await stop(redis, 'SIGTERM'); // Redis away: the API keeps acknowledging from its spool
      await waitFor(
        'the API to spool',
        () => /"msg":"Redis unavailable: events spooled locally"/.test(api.output()),
        30000,
      );
      await progress('calls acknowledged from the spool', { acked: 40 });
      redis = await startRedis(redisPort, dir);
      await progress('deliveries after the outage', { acked: 20, delivered: 20 });
      writeFileSync(failFlag, ''); // the sink fails every attempt for a while, then recovers
      await waitFor(
        'the sink to refuse a delivery',
        () => worker.output().includes('sink is down'),
        30000,
      );
      await progress('calls acknowledged while the sink is down', { acked: 40 });
      rmSync(failFlag);
      await progress('deliveries after the sink recovered', { acked: 20, delivered: 20 });
    } finally {
      loading = false;
      await load;
    }
    try {
      await waitFor(
        'every acknowledged call delivered',
        () => {
          const ids = new Set(delivered(out).map((d) => d.uploadId));
          return [...acked].every((id) => ids.has(id));
        },
        90000,
      );
      // Counted once nothing can still arrive: the API's spool drained and every job finished.
      await waitFor(
        'the spool drained',
        async () =>
          ((await (await fetch(`http://127.0.0.1:${apiPort}/readyz`)).json()) as { status: string })
            .status === 'ready',
        30000,
      );
      await settled(
        { prefix: '{faults}', redisUrl: `redis://127.0.0.1:${redisPort}` },
        'rec',
        30000,
      );
      const rows = delivered(out);
      const unique = new Set(rows.map((d) => d.uploadId));
      const lost = [...acked].filter((id) => !unique.has(id));
      const duplicates = rows.length - unique.size;
      const spooled = /"msg":"Redis unavailable: events spooled locally"/.test(api.output());
      console.log(
        `      fault suite: sent ${sent}, acknowledged ${acked.size}, refused ${refused}, delivered ${unique.size} distinct (${rows.length} deliveries), duplicates ${duplicates}, lost ${lost.length}, spool used: ${spooled}`,
      );
      assert.deepEqual(lost, []);
      // why a bound, not 0: delivery is at-least-once at the edges BullMQ cannot close (README,
      // Reliability): a job whose deliver() had returned when its worker, or Redis, was SIGKILLed is
      // not marked done and is delivered again. At most the jobs in flight at those two kills can be:
      // the killed worker's 4 (concurrency) and the surviving worker's 4 when Redis is killed. Any
      // other duplicate (a spool drain re-publishing, a stalled job taken twice) breaks the bound.
      assert.ok(
        duplicates <= 8,
        `${duplicates} duplicate deliveries: more than the 8 jobs that can be in flight at the two kills`,
      );
      assert.ok(spooled, 'the Redis outage was bridged by the spool');
      assert.ok(
        acked.size > sent * 0.9,
        `nearly every request acknowledged (${acked.size}/${sent})`,
      );
      assert.ok(
        rows.every((r) => r.secrets['secretCode'] === SECRET),
        'the secret reaches the sink through ctx.secrets',
      );
      // Graceful shutdown: SIGTERM ends the processes cleanly.
      await stop(api.proc, 'SIGTERM');
      assert.equal(await api.exited, 0);
      await stop(worker.proc, 'SIGTERM');
      assert.equal(await worker.exited, 0);
      for (const p of [api, ...workers])
        assert.ok(!p.output().includes(SECRET), 'the secretCode never reaches the logs');
    } finally {
      for (const p of [api, ...workers]) await stop(p.proc, 'SIGKILL');
      await stop(redis, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    }
  });
});
