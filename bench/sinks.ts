// The sink rows of `npm run bench` (issue #26): the default deployment (the archive, often with
// Postgres) measured end to end next to its skeletons, in the same run. See bench/README.md, "Sinks".
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { Queue } from 'bullmq';
import pg from 'pg';
import { stringify } from 'yaml';
import { sinkQueueName } from '../src/queue/redis.js';
import type { BenchOptions } from './options.js';
import { measureAll, type Target } from './measure.js';
import { cpuCeiling, cpuMeter, type DrainCpu } from './drain-cpu.js';
import { createTable, insertText } from './pg-skeleton-sink.js';
import { freePort, load, median, percentile, root, sleep } from './procs.js';
import type { Row } from './report.js';
import { platformConfig } from './scenarios.js';
import { SUSTAINED } from './report.js';
import { ADMIN_TOKEN, SINK, drain, startStudyhook, type Cluster } from './studyhook.js';

/** One deployment under test: its own config, Redis prefix and data dir, one API and one worker process. */
export interface SinkSetup {
  key: 'noop' | 'archive' | 'postgres' | 'skeleton' | 'both' | 'noop2' | 'queue';
  name: string;
  /** Measured in the drain rows only. */
  drainOnly?: boolean;
  sinks: Record<string, unknown>[];
  config: string;
  prefix: string;
  metricsPort: number;
  cluster?: Cluster;
}

/** Per sink of a row: writes (fsyncs of the archive, INSERT statements) per second and items per write. */
export interface BatchFigures {
  sink: string;
  perSecond: number;
  perWrite: number;
}
export interface SinkRow extends Row {
  key: SinkSetup['key'];
  batches: BatchFigures[];
}
export interface DrainRow {
  key: SinkSetup['key'] | 'floor';
  name: string;
  events: number;
  eventsPerSec: number[];
  median: number;
  batches: BatchFigures[];
  /** Medians over the repetitions; absent for the floor. */
  cpu?: DrainCpu;
}
/** What the sink rows add to bench/results/latest.json (the rows themselves are in `rows` too). */
export interface SinkResults {
  rows: SinkRow[];
  drains: DrainRow[];
  pg: string | undefined;
}

export interface SinkCtx {
  opts: BenchOptions;
  work: string;
  runId: string;
  env: Record<string, string>;
  redisPid: number | undefined;
  pgUrl: string | undefined;
  log: (m: string) => void;
}

const SKELETON_TABLE = (runId: string): string => `bench_${runId}_skeleton`;
const queuesOf = (s: SinkSetup): string[] => s.sinks.map((x) => String(x['name']));

/** The deployments: the no-op sink (the archive's skeleton), the archive, and with a database Postgres, its skeleton and both. */
export async function sinkSetups(c: SinkCtx): Promise<SinkSetup[]> {
  const table = (k: string): string => `bench_${c.runId}_${k}`;
  const pgSink = (k: string) => ({
    name: 'db',
    use: 'postgres',
    options: { connectionString: c.pgUrl, table: table(k) },
  });
  // why: the built-in sinks' jobs carry no ctx.secrets; the skeletons' (module sinks) neither
  // (`secrets: false`), so that both do the same queue work per event.
  const wanted: Array<Pick<SinkSetup, 'key' | 'name' | 'sinks' | 'drainOnly'>> = [
    {
      key: 'noop',
      name: `${SUSTAINED}: Sensor Logger, API + worker, no-op sink`,
      sinks: [{ name: SINK, module: join(root, 'bench/noop-sink.js'), secrets: false }],
    },
    {
      key: 'archive',
      name: `${SUSTAINED}: archive sink (fsync)`,
      sinks: [{ name: 'archive', use: 'filesystem' }],
    },
  ];
  if (c.pgUrl) {
    wanted.push(
      // why: the postgres sink's concurrency with nothing behind it: what the queue and one worker
      // process deliver at most, the ceiling of any sink's drain on this machine.
      {
        key: 'queue',
        name: `${SUSTAINED}: the queue alone, no-op sink at concurrency 256`,
        sinks: [
          {
            name: SINK,
            module: join(root, 'bench/noop-sink.js'),
            concurrency: 256,
            secrets: false,
          },
        ],
        drainOnly: true,
      },
      { key: 'postgres', name: `${SUSTAINED}: postgres sink`, sinks: [pgSink('postgres')] },
      // why: the same concurrency as the postgres sink's default, so that both have as many rows to gather.
      {
        key: 'skeleton',
        name: `${SUSTAINED}: postgres skeleton (100-row INSERTs, one pool)`,
        sinks: [
          {
            name: 'db',
            module: join(root, 'bench/pg-skeleton-sink.ts'),
            options: { url: c.pgUrl, table: SKELETON_TABLE(c.runId) },
            concurrency: 256,
            secrets: false,
          },
        ],
      },
      {
        key: 'both',
        name: `${SUSTAINED}: archive + postgres`,
        sinks: [{ name: 'archive', use: 'filesystem' }, pgSink('both')],
      },
      // why: two sinks are two jobs per event, twice the queue's work; this is that work without the sinks'.
      {
        key: 'noop2',
        name: `${SUSTAINED}: two no-op sinks`,
        sinks: [
          { name: SINK, module: join(root, 'bench/noop-sink.js'), secrets: false },
          { name: `${SINK}-2`, module: join(root, 'bench/noop-sink.js'), secrets: false },
        ],
      },
    );
  }
  const out: SinkSetup[] = [];
  for (const w of wanted) {
    const dir = join(c.work, `sink-${w.key}`);
    await mkdir(join(dir, 'data'), { recursive: true });
    const prefix = `{bench-${c.runId}-${w.key}}`;
    const metricsPort = await freePort();
    const config = join(dir, 'studyhook.yml');
    await writeFile(
      config,
      stringify({
        dataDir: join(dir, 'data'),
        redis: { url: c.opts.redisUrl, prefix },
        server: { host: '127.0.0.1', port: 0, rateLimit: { enabled: false } },
        admin: { token: ADMIN_TOKEN },
        archive: false,
        platforms: { sensorlogger: platformConfig['sensorlogger'] },
        workers: { metricsPort },
        sinks: w.sinks,
      }),
    );
    out.push({ ...w, config, prefix, metricsPort });
  }
  return out;
}

/** The worker's counters of batched writes and their items, by sink (its /metrics). */
async function batchCounters(
  s: SinkSetup,
): Promise<Map<string, { batches: number; items: number }>> {
  const out = new Map<string, { batches: number; items: number }>();
  try {
    const text = await (
      await fetch(`http://127.0.0.1:${s.metricsPort}/metrics`, {
        headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      })
    ).text();
    for (const m of text.matchAll(
      /^studyhook_sink_(batches|batched_items)_total\{sink="([^"]+)"\} (\S+)$/gm,
    )) {
      const e = out.get(m[2]!) ?? { batches: 0, items: 0 };
      e[m[1] === 'batches' ? 'batches' : 'items'] = Number(m[3]);
      out.set(m[2]!, e);
    }
  } catch {
    /* no worker metrics: no batch figures */
  }
  return out;
}

/** What happened between two readings of the counters, over `seconds`. */
function figures(
  before: Awaited<ReturnType<typeof batchCounters>>,
  after: Awaited<ReturnType<typeof batchCounters>>,
  seconds: number,
): BatchFigures[] {
  return [...after].map(([sink, a]) => {
    const b = before.get(sink) ?? { batches: 0, items: 0 };
    const batches = a.batches - b.batches;
    return {
      sink,
      perSecond: batches / seconds,
      perWrite: batches ? (a.items - b.items) / batches : 0,
    };
  });
}

async function startSetups(c: SinkCtx, setups: SinkSetup[]): Promise<void> {
  for (const s of setups)
    s.cluster = await startStudyhook(s.config, {
      apis: 1,
      workers: 1,
      env: { ...c.env, BENCH_PREFIX: s.prefix },
    });
}

/** `--drain-only`: starts the deployments and measures their drain rows alone. */
export async function drainBench(c: SinkCtx, setups: SinkSetup[]): Promise<DrainRow[]> {
  await startSetups(c, setups);
  return drainRows(c, setups);
}

/** Starts every deployment (API + worker), measures the sustained rows interleaved, then the drain rows. */
export async function sinkBench(
  c: SinkCtx,
  setups: SinkSetup[],
): Promise<{ rows: SinkRow[]; drains: DrainRow[] }> {
  await startSetups(c, setups);
  const batchLog = new Map<SinkSetup['key'], BatchFigures[][]>();
  const sustained = setups.filter((s) => !s.drainOnly);
  const targets: Target[] = sustained.map((s) => {
    let last: Promise<Awaited<ReturnType<typeof batchCounters>>> = batchCounters(s);
    let round = 0;
    return {
      name: s.name,
      ports: s.cluster!.ports,
      pids: s.cluster!.apis.map((p) => p.pid),
      key: 'sensorlogger',
      drains: true,
      between: async () => {
        const started = Date.now();
        await drain(c.opts.redisUrl, s.prefix, 300000, queuesOf(s));
        const now = await batchCounters(s);
        // why: the first reading after start covers the warm-up; the others one repetition each (load + drain).
        const seconds =
          (round++ === 0 ? c.opts.warmup : c.opts.duration) + (Date.now() - started) / 1000;
        const f = figures(await last, now, seconds);
        if (round > 1) batchLog.set(s.key, [...(batchLog.get(s.key) ?? []), f]);
        last = Promise.resolve(now);
      },
    };
  });
  const rows = (await measureAll(targets, { ...c.opts, redisPid: c.redisPid }, c.log)).map(
    (r, i): SinkRow => {
      const reps = batchLog.get(sustained[i]!.key) ?? [];
      const sinks = [...new Set(reps.flat().map((f) => f.sink))];
      const batches = sinks.map((sink) => {
        const mine = reps.map((r2) => r2.find((f) => f.sink === sink)!).filter(Boolean);
        return {
          sink,
          perSecond: median(mine.map((f) => f.perSecond)),
          perWrite: median(mine.map((f) => f.perWrite)),
        };
      });
      return { ...r, key: sustained[i]!.key, batches };
    },
  );
  const drains = await drainRows(c, setups);
  return { rows, drains };
}

/**
 * A sink's own ceiling, with the API out of the way: the queue paused, `events` requests acknowledged,
 * then the worker let go and timed until everything is delivered. The floor: the postgres sink's rows
 * inserted again into a table like it, 100 per INSERT, four at a time from one pool of four.
 */
async function drainRows(c: SinkCtx, setups: SinkSetup[]): Promise<DrainRow[]> {
  const events = c.opts.quick ? 5000 : 10000;
  const measured = setups.filter((s) => s.key !== 'both' && s.key !== 'noop2');
  const runs = new Map<string, { rates: number[]; batches: BatchFigures[][]; cpu: DrainCpu[] }>();
  for (let i = 0; i < c.opts.reps; i++) {
    for (const s of measured) {
      const queues = queuesOf(s).map(
        (q) =>
          new Queue(sinkQueueName(q), { connection: { url: c.opts.redisUrl }, prefix: s.prefix }),
      );
      try {
        await Promise.all(queues.map((q) => q.pause()));
        await load({
          url: `http://127.0.0.1:${s.cluster!.ports[0]}`,
          key: 'sensorlogger',
          connections: c.opts.connections,
          duration: 0,
          amount: events,
        });
        const before = await batchCounters(s);
        const meter = await cpuMeter(s.cluster!.workers[0]!.pid, c.redisPid, c.pgUrl);
        const started = Date.now();
        await Promise.all(queues.map((q) => q.resume()));
        await drain(c.opts.redisUrl, s.prefix, 300000, queuesOf(s), 20);
        const seconds = (Date.now() - started) / 1000;
        const cpu = await meter.stop(events);
        const r = runs.get(s.key) ?? { rates: [], batches: [], cpu: [] };
        r.rates.push(events / seconds);
        r.batches.push(figures(before, await batchCounters(s), seconds));
        r.cpu.push(cpu);
        runs.set(s.key, r);
        c.log(
          `drain of ${events} events, ${s.key}: ${(events / seconds).toFixed(0)} events/s; CPU µs/event: worker ${cpu.worker}, Redis ${cpu.redis}, Postgres ${cpu.postgres} (CPU allows ${cpuCeiling(cpu).toFixed(0)}/s); load ${loadavg()[0]!.toFixed(1)}`,
        );
      } finally {
        await Promise.all(queues.map((q) => q.close()));
      }
    }
    if (c.pgUrl && setups.some((s) => s.key === 'postgres')) {
      const rate = await floor(
        c.pgUrl,
        `bench_${c.runId}_postgres`,
        `bench_${c.runId}_floor`,
        events,
      );
      runs.set('floor', {
        rates: [...(runs.get('floor')?.rates ?? []), rate],
        batches: [],
        cpu: [],
      });
      c.log(
        `floor: ${events} rows re-inserted, 100 per INSERT from one pool: ${rate.toFixed(0)} rows/s`,
      );
    }
  }
  const names: Record<string, string> = {
    floor: 'floor: the same rows, 100-row INSERTs from one pool, no queue',
  };
  for (const s of setups)
    names[s.key] = s.name
      .replace(`${SUSTAINED}: `, 'drain: ')
      .replace('Sensor Logger, API + worker, ', '');
  return [...runs].map(([key, r]) => ({
    key: key as DrainRow['key'],
    name: names[key]!,
    events,
    eventsPerSec: r.rates.map(Math.round),
    median: median(r.rates),
    ...(r.cpu.length > 0 && {
      cpu: {
        worker: median(r.cpu.map((u) => u.worker)),
        redis: median(r.cpu.map((u) => u.redis)),
        postgres: median(r.cpu.map((u) => u.postgres)),
      },
    }),
    batches: [...new Set(r.batches.flat().map((f) => f.sink))].map((sink) => {
      const mine = r.batches.map((b) => b.find((f) => f.sink === sink)!).filter(Boolean);
      return {
        sink,
        perSecond: median(mine.map((f) => f.perSecond)),
        perWrite: median(mine.map((f) => f.perWrite)),
      };
    }),
  }));
}

/** The newest `events` rows of the postgres sink's table inserted into a fresh table like it; rows per second. */
async function floor(pgUrl: string, from: string, to: string, events: number): Promise<number> {
  const pool = new pg.Pool({ connectionString: pgUrl, max: 4 });
  try {
    await pool.query(`DROP TABLE IF EXISTS ${to}`);
    await createTable(pool, to);
    const { rows } = await pool.query<Record<string, unknown>>(
      `SELECT id, type, platform, namespace, study, participant, session, subject, time, received_at, event::text AS event FROM ${from} ORDER BY received_at DESC LIMIT ${events}`,
    );
    const values = rows.map((r) => [
      r['id'],
      r['type'],
      r['platform'],
      r['namespace'],
      r['study'],
      r['participant'],
      r['session'],
      r['subject'],
      r['time'],
      r['received_at'],
      r['event'],
    ]);
    const started = Date.now();
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < values.length) {
        const batch = values.slice(next, next + 100);
        next += 100;
        await pool.query(insertText(to, batch.length), batch.flat());
      }
    };
    await Promise.all([lane(), lane(), lane(), lane()]);
    return values.length / ((Date.now() - started) / 1000);
  } finally {
    await pool.end();
  }
}

/** Stops the deployments and drops the bench's tables. */
export async function sinkCleanup(c: SinkCtx, setups: SinkSetup[]): Promise<void> {
  await Promise.all(setups.map((s) => s.cluster?.stop()));
  // why: the archives written under load are hundreds of MB over a run.
  await Promise.all(setups.map((s) => rm(dirname(s.config), { recursive: true, force: true })));
  if (!c.pgUrl) return;
  const pool = new pg.Pool({ connectionString: c.pgUrl, max: 1 });
  try {
    for (const k of ['postgres', 'both', 'skeleton', 'floor'])
      await pool.query(`DROP TABLE IF EXISTS bench_${c.runId}_${k}`);
  } catch {
    /* the database went away: nothing to drop */
  } finally {
    await pool.end();
  }
}

/** The database for the postgres rows (BENCH_PG_URL), or undefined when it cannot be reached. */
export async function reachablePg(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return url;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A deployment whose archive sink notes each delivery's ingest-to-delivered time (bench/timed-sink.ts), for the end-to-end figure. */
export async function timedArchive(
  c: SinkCtx,
): Promise<{ config: string; prefix: string; queues: string[] }> {
  const dir = join(c.work, 'sink-archive-timed');
  await mkdir(join(dir, 'data'), { recursive: true });
  const prefix = `{bench-${c.runId}-archive-timed}`;
  const config = join(dir, 'studyhook.yml');
  await writeFile(
    config,
    stringify({
      dataDir: join(dir, 'data'),
      redis: { url: c.opts.redisUrl, prefix },
      server: { host: '127.0.0.1', port: 0, rateLimit: { enabled: false } },
      archive: false,
      platforms: { sensorlogger: platformConfig['sensorlogger'] },
      // why: the wrapper has no default of its own; the archive's, written out.
      sinks: [
        {
          name: 'archive',
          module: join(root, 'bench/timed-sink.ts'),
          options: {
            use: 'filesystem',
            options: { dir: join(dir, 'data', 'events'), fsync: true },
          },
          concurrency: 64,
          secrets: false,
        },
      ],
    }),
  );
  return { config, prefix, queues: ['archive'] };
}

/**
 * The disk's own fdatasync latency just before the archive's end-to-end windows: one 4 KiB append and
 * fdatasync every 5 ms for `seconds`. why: on a shared disk a journal commit waits for other writers,
 * and the archive's latency cannot be better than this.
 */
export async function fsyncProbe(
  dir: string,
  seconds: number,
): Promise<{ p50: number; p99: number; max: number; n: number }> {
  const file = join(dir, 'fsync-probe.bin');
  const fh = await open(file, 'a');
  const block = Buffer.alloc(4096, 0x61);
  const ms: number[] = [];
  try {
    const end = Date.now() + seconds * 1000;
    while (Date.now() < end) {
      const t = process.hrtime.bigint();
      await fh.write(block);
      await fh.datasync();
      ms.push(Number(process.hrtime.bigint() - t) / 1e6);
      await sleep(5);
    }
  } finally {
    await fh.close();
    await rm(file, { force: true });
  }
  const r = (x: number): number => Math.round(x * 10) / 10;
  return {
    p50: r(percentile(ms, 50)),
    p99: r(percentile(ms, 99)),
    max: r(Math.max(...ms)),
    n: ms.length,
  };
}
