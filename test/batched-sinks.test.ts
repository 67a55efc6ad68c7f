import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import pg from 'pg';
import { stringify } from 'yaml';
import { replay } from '../src/commands/replay.js';
import { loadConfig } from '../src/config/load-config.js';
import { jobIdOf } from '../src/event/build-event.js';
import { createGateway, type Gateway } from '../src/gateway.js';
import { createLogger } from '../src/log/logger.js';
import { sinkQueueName } from '../src/queue/redis.js';
import { csvObjects } from './fixtures/export/csv.js';
import { exportCli } from './fixtures/export/run.js';
import { testPrefix, recordingSink, REDIS_URL, waitFor } from './helpers/gateway.js';
import { spawnStudyhook, stop, type Studyhook } from './helpers/processes.js';

const PG_URL = process.env['PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';
const day = (): string => new Date().toISOString().slice(0, 10);

/** A deployment whose API runs in this process and whose workers are real `studyhook worker` processes. */
async function deployment(name: string, extra: Record<string, unknown> = {}, sink = 'archive') {
  const dir = await mkdtemp(join(tmpdir(), `studyhook-${name}-`));
  const prefix = testPrefix(name);
  const file = join(dir, 'studyhook.yml');
  const base = {
    dataDir: dir,
    redis: { url: REDIS_URL, prefix },
    log: { level: 'debug' },
    ...extra,
  };
  await writeFile(file, stringify(base));
  const api: Gateway = await createGateway({
    config: loadConfig({ path: file, env: {} }),
    roles: { api: true, worker: false },
    logger: createLogger({ level: 'silent' }),
  });
  const url = `http://127.0.0.1:${await api.listen(0, '127.0.0.1')}/sensorlogger/lab`;
  const queue = new Queue(sinkQueueName(sink), { connection: { url: REDIS_URL }, prefix });
  const workers: Studyhook[] = [];
  const local: Gateway[] = [];
  return {
    dir,
    file,
    api,
    queue,
    workers,
    archived: join(dir, 'events', 'sensorlogger', 'lab', `${day()}.jsonl`),
    /** Sends `n` Sensor Logger uploads, 8 at a time over kept-alive connections; returns the acknowledged event ids. */
    async send(n: number, note = ''): Promise<string[]> {
      const ids: string[] = [];
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (let i = next++; i < n; i = next++) {
            const res = await fetch(url, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ studyId: 's', uploadId: `u-${i}`, secretCode: 'c', note }),
            });
            const body = await res.text();
            assert.equal(res.status, 200, body);
            ids[i] = (JSON.parse(body) as { id: string }).id;
          }
        }),
      );
      return ids;
    },
    worker(): Studyhook {
      const w = spawnStudyhook('worker', file);
      workers.push(w);
      return w;
    },
    /** A worker in this process, for the deliveries after a kill (it starts without a process's start-up). */
    async localWorker(): Promise<void> {
      local.push(
        await createGateway({
          config: loadConfig({ path: file, env: {} }),
          roles: { api: false, worker: true },
          logger: createLogger({ level: 'silent' }),
        }),
      );
    },
    /**
     * Sends `n` uploads to a paused queue while `count` worker processes start, then lets them at the
     * backlog together (their start-up overlaps the sending; no worker gets a head start).
     */
    async backlog(
      n: number,
      count: number,
      note = '',
    ): Promise<{ ids: string[]; started: Studyhook[] }> {
      await queue.pause();
      const started = Array.from({ length: count }, () => this.worker());
      const ids = await this.send(n, note);
      await waitFor(
        'the workers to run',
        () => started.every((w) => w.output().includes('studyhook worker running')),
        60000,
      );
      await queue.resume();
      return { ids, started };
    },
    async rewrite(more: Record<string, unknown>): Promise<void> {
      await writeFile(file, stringify({ ...base, ...more }));
    },
    async close(): Promise<void> {
      for (const w of workers) await stop(w.proc, 'SIGKILL');
      for (const g of local) await g.close();
      await queue.close();
      await api.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The archive's lines, each parsed; a line that does not parse fails the test with its number. */
function archivedIds(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  assert.ok(text.endsWith('\n'), 'the file ends with a whole line');
  return text
    .slice(0, -1)
    .split('\n')
    .map((line, i) => {
      try {
        return (JSON.parse(line) as { id: string }).id;
      } catch {
        assert.fail(
          `line ${i + 1} is torn or interleaved: ${line.slice(0, 80)}…${line.slice(-80)}`,
        );
      }
    });
}

const completed = async (q: Queue): Promise<number> =>
  (await q.getJobCounts('completed')).completed ?? 0;

describe('the archive with worker processes', () => {
  it('keeps every line whole when two worker processes append to the same daily file', async function () {
    this.timeout(120000);
    const d = await deployment('two-writers');
    try {
      // why: lines of ~30 KB, so that a batch is a write of megabytes: one not taken whole would interleave.
      // Both workers are running before the queue is let go, so that neither drains it alone first.
      const { ids, started } = await d.backlog(300, 2, 'x'.repeat(30000));
      const [a, b] = started as [Studyhook, Studyhook];
      await waitFor(
        'every event archived',
        async () => (await completed(d.queue)) === ids.length,
        90000,
      );
      const delivered = (w: Studyhook) =>
        w
          .output()
          .split('\n')
          .filter((l) => l.includes('"msg":"delivered"')).length;
      console.log(`      two workers on one file: ${delivered(a)} and ${delivered(b)} deliveries`);
      assert.ok(delivered(a) > 0 && delivered(b) > 0, 'both processes wrote to the file');
      const lines = archivedIds(d.archived);
      assert.equal(lines.length, ids.length, 'one line per event');
      assert.deepEqual([...lines].sort(), [...ids].sort());
    } finally {
      await d.close();
    }
  });

  it('after a SIGKILL mid-batch, has every event reported delivered in the file and writes the others when they come back', async function () {
    this.timeout(120000);
    const d = await deployment('kill-archive', {
      workers: { stalledIntervalMs: 500, lockDurationMs: 3000, maxStalls: 5 },
    });
    try {
      const {
        ids,
        started: [first],
      } = await d.backlog(1500, 1);
      await waitFor(
        'a few hundred deliveries',
        async () => (await completed(d.queue)) >= 300,
        60000,
      );
      await stop(first!.proc, 'SIGKILL');
      const inFlight = (await d.queue.getJobCounts('active')).active ?? 0;
      const done = (await d.queue.getCompleted(0, -1)).map((j) => j.data.event.id);
      assert.ok(
        inFlight > 0 && done.length < ids.length,
        `killed with ${inFlight} deliveries in flight, ${done.length} done`,
      );
      const before = new Set(archivedIds(d.archived));
      assert.deepEqual(
        done.filter((id) => !before.has(id)),
        [],
        'every event reported delivered is in the file',
      );

      await d.localWorker();
      await waitFor(
        'every event archived after the restart',
        async () => (await completed(d.queue)) === ids.length,
        90000,
      );
      const lines = archivedIds(d.archived);
      const distinct = new Set(lines);
      console.log(
        `      SIGKILL with ${inFlight} deliveries in flight: ${done.length} reported delivered before, ${lines.length - distinct.size} lines written twice (a line written but not yet reported delivered)`,
      );
      assert.deepEqual([...distinct].sort(), [...ids].sort(), 'every event in the file');
      assert.ok(
        lines.length - distinct.size <= inFlight,
        'a second line only for an event in flight at the kill',
      );

      // A line written twice is one event to its readers: export counts it once, replay queues it once.
      const out = join(d.dir, 'export');
      const exported = await exportCli(['--config', d.file, '--namespace', 'lab', '--out', out]);
      assert.equal(exported.code, 0, exported.err);
      assert.equal(
        csvObjects(await readFile(join(out, 'sensorlogger_uploads.csv'), 'utf8')).length,
        ids.length,
      );
      await d.rewrite({
        workers: { stalledIntervalMs: 500 },
        sinks: [
          { name: 'late', module: recordingSink, options: { file: join(d.dir, 'late.jsonl') } },
        ],
      });
      const log = console.log;
      console.log = () => undefined;
      try {
        assert.equal(await replay.run(['--config', d.file, '--from-archive', '--sink', 'late']), 0);
      } finally {
        console.log = log;
      }
      const late = new Queue(sinkQueueName('late'), {
        connection: { url: REDIS_URL },
        prefix: loadConfig({ path: d.file, env: {} }).redis.prefix,
      });
      try {
        assert.equal((await late.getJobCounts('waiting')).waiting, ids.length);
        assert.ok(await late.getJob(jobIdOf(ids[0]!)));
      } finally {
        await late.close();
      }
    } finally {
      await d.close();
    }
  });
});

describe('the postgres sink with worker processes', () => {
  const schema = `sh_kill_${randomBytes(4).toString('hex')}`;
  const client = new pg.Client({ connectionString: PG_URL });
  before(() => client.connect());
  after(async () => {
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  it('after a SIGKILL mid-batch, has every event reported delivered in the table and each event once after the restart', async function () {
    this.timeout(120000);
    const d = await deployment(
      'kill-pg',
      {
        archive: false,
        workers: { stalledIntervalMs: 500, lockDurationMs: 3000, maxStalls: 5 },
        sinks: [
          {
            name: 'db',
            use: 'postgres',
            options: { connectionString: PG_URL, schema, table: 'events' },
          },
        ],
      },
      'db',
    );
    const rows = async (): Promise<string[]> =>
      (await client.query<{ id: string }>(`SELECT id FROM ${schema}.events`)).rows.map((r) => r.id);
    try {
      const {
        ids,
        started: [first],
      } = await d.backlog(1500, 1);
      await waitFor(
        'a few hundred deliveries',
        async () => (await completed(d.queue)) >= 300,
        60000,
      );
      await stop(first!.proc, 'SIGKILL');
      const inFlight = (await d.queue.getJobCounts('active')).active ?? 0;
      const done = (await d.queue.getCompleted(0, -1)).map((j) => j.data.event.id);
      assert.ok(
        inFlight > 0 && done.length < ids.length,
        `killed with ${inFlight} deliveries in flight, ${done.length} done`,
      );
      const before = new Set(await rows());
      assert.deepEqual(
        done.filter((id) => !before.has(id)),
        [],
        'every event reported delivered is in the table',
      );
      await d.localWorker();
      await waitFor(
        'every event written after the restart',
        async () => (await completed(d.queue)) === ids.length,
        90000,
      );
      const after = await rows();
      console.log(
        `      SIGKILL with ${inFlight} deliveries in flight: ${done.length} reported delivered before, ${before.size} rows then, ${after.length} rows for ${ids.length} events after`,
      );
      assert.deepEqual(after.sort(), [...ids].sort(), 'each event once');
    } finally {
      await d.close();
    }
  });
});
