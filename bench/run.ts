// `npm run bench`: skeleton A, skeleton B and studyhook in one run, each server in its own process,
// driven by autocannon in another; every figure is reported next to the baselines of the same run.
// See bench/README.md for the conditions and flags.
import { randomUUID } from 'node:crypto';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { sinkQueueName } from '../src/queue/redis.js';
import { deleteKeys } from '../test/helpers/gateway.js';
import { capCpu, type CpuCap } from './cpu-cap.js';
import { callgrindMissing, countInstructions, type InstructionTarget } from './instructions.js';
import { clusterBench } from './cluster.js';
import { exportBench } from './export.js';
import { studyBench } from './study.js';
import { readOptions, type BenchOptions } from './options.js';
import { measureAll, type Target } from './measure.js';
import {
  load,
  machineCpu,
  median,
  nodeTs,
  percentile,
  root,
  sleep,
  start,
  freePort,
  waitForPort,
  type Proc,
} from './procs.js';
import { SUSTAINED, writeReport, type Results, type Row } from './report.js';
import { scenarios } from './scenarios.js';
import {
  drainBench,
  fsyncProbe,
  reachablePg,
  sinkBench,
  sinkCleanup,
  sinkSetups,
  timedArchive,
  type SinkCtx,
} from './sinks.js';
import { soak } from './soak.js';
import { forged } from './forged.js';
import { summarise } from './profile-summary.js';
import {
  ADMIN_TOKEN,
  SINK,
  available,
  cliArgs,
  drain,
  localRedisPid,
  obliterate,
  startStudyhook,
  writeConfig,
  type Cluster,
} from './studyhook.js';
import { cleanUploads, uploads } from './upload-runs.js';

const opts = readOptions(process.argv.slice(2));
const runId = randomUUID().slice(0, 8);
const prefix = `{bench-${runId}}`;
const work = join(root, 'bench/.work', runId);
const e2eFile = join(work, 'e2e.txt');
const log = (msg: string): void => {
  console.log(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}`);
};
const env = {
  REDIS_URL: opts.redisUrl,
  BENCH_PREFIX: prefix,
  BENCH_E2E_FILE: e2eFile,
  BENCH_UPLOAD_DIR: work,
};
/** The scenarios `--only` selects (all without it); each part of the bench also skips those with no adapter. */
const chosen = scenarios.filter((s) => !opts.only || s.platform.includes(opts.only));
/** Redis' pid when it runs here, so that the rows give its CPU time per request too. */
let redisPid: number | undefined;

/** One target measured alone (sustained and scale-out rows), with the same loop as the interleaved rows. */
async function measure(
  name: string,
  c: Cluster,
  key: string,
  between: () => Promise<void>,
  settings: BenchOptions = opts,
): Promise<Row> {
  return (
    await measureAll(
      [{ name, ports: c.ports, pids: c.apis.map((p) => p.pid), key, between, drains: true }],
      { ...settings, redisPid },
      log,
    )
  )[0]!;
}

/** A skeleton server; its queue is emptied by obliterate, not drained by a worker (no backlog figure). */
async function startSkeleton(which: 'a' | 'b'): Promise<{ target: Target; proc: Proc }> {
  const port = await freePort();
  const proc = start(nodeTs(`bench/servers/skeleton-${which}.ts`), { ...env, PORT: String(port) });
  await waitForPort(port, proc);
  const name = `Skeleton ${which.toUpperCase()} (${which === 'a' ? 'express + express.json() + ajv + await queue.add()' : 'node:http + ajv + queue.add()'})`;
  return {
    proc,
    target: {
      name,
      ports: [port],
      pids: [proc.pid],
      key: 'skeleton',
      between: () => obliterate(opts.redisUrl, prefix, `skeleton-${which}`),
      drains: false,
    },
  };
}

/**
 * Both skeletons and every scenario, interleaved (bench/measure.ts). Like the skeletons, the scenario
 * rows measure ingest alone (HTTP → durable enqueue → reply), on one API process; a worker started
 * just for that drains the queue after each run.
 */
async function ingestRows(config: string, skipped: string[]): Promise<Row[]> {
  const skeletons = [await startSkeleton('a'), await startSkeleton('b')];
  const sh = await startStudyhook(config, { apis: 1, workers: 0, env });
  try {
    const targets: Target[] = skeletons.map((x) => x.target);
    for (const s of chosen) {
      if (!available(s.platform)) {
        skipped.push(`${s.name} (no '${s.platform}' adapter in adapters/index.ts)`);
        continue;
      }
      targets.push({
        name: `studyhook: ${s.name}`,
        ports: sh.ports,
        pids: [sh.apis[0]!.pid],
        key: s.platform,
        between: () => drainWith(config),
        drains: true,
      });
    }
    return await measureAll(targets, { ...opts, redisPid }, log);
  } finally {
    await Promise.all([...skeletons.map((x) => x.proc.stop()), sh.stop()]);
  }
}

async function withStudyhook<T>(
  config: string,
  apis: number,
  workers: number,
  fn: (c: Cluster) => Promise<T>,
  apiFlags: string[] = [],
): Promise<T> {
  const c = await startStudyhook(config, { apis, workers, env, apiFlags });
  try {
    return await fn(c);
  } finally {
    await c.stop();
  }
}

/** Drains the queue with a worker started just for that, so that it never competes with the load. */
async function drainWith(config: string): Promise<void> {
  const w = start([...cliArgs(), 'worker', '--config', config], env);
  try {
    await drain(opts.redisUrl, prefix);
  } finally {
    await w.stop();
  }
}

async function e2e(
  config: string,
  peak: number,
  where: { prefix: string; queues: string[] } = { prefix, queues: [SINK] },
): Promise<Results['e2e']> {
  const rate = Math.max(1, Math.round(peak / 2));
  const drained = (): Promise<void> => drain(opts.redisUrl, where.prefix, 120000, where.queues);
  return withStudyhook(config, 1, 1, async (c) => {
    const url = `http://127.0.0.1:${c.ports[0]}`;
    // why: a warm-up at the same rate first (JIT, sockets, Redis scripts), as the throughput rows have.
    await load({
      url,
      key: 'sensorlogger',
      connections: opts.connections,
      duration: opts.warmup,
      rate,
    });
    await drained();
    await sleep(300); // the sink flushes its notes every 200 ms
    // why: 20 s windows, not 5: at 950 req/s, five 5 s windows gave p99s of 23 to 75 ms (one slow moment is 1% of 4750), two 20 s windows 29 and 34 ms.
    // why: `reps` windows and their median, like every other figure here: one stall of the shared machine decided a single window's p99 (110 ms in one run, 18 and 23 ms in the next two).
    const reps: NonNullable<Results['e2e']>['reps'] = [];
    const all: number[] = [];
    for (let i = 0; i < opts.reps; i++) {
      await rm(e2eFile, { force: true });
      const r = await load({
        url,
        key: 'sensorlogger',
        connections: opts.connections,
        duration: opts.quick ? 5 : Math.max(opts.duration, 20),
        rate,
      });
      await drained();
      await sleep(500); // the sink flushes its notes every 200 ms
      const ms = (await readFile(e2eFile, 'utf8').catch(() => ''))
        .split('\n')
        .filter(Boolean)
        .map(Number);
      all.push(...ms);
      reps.push({
        delivered: ms.length,
        p50: percentile(ms, 50),
        p99: percentile(ms, 99),
        max: ms.reduce((a, b) => Math.max(a, b), 0),
        httpP50: r.p50,
        httpP99: r.p99,
      });
      log(
        `end-to-end at ${rate} req/s, window ${i + 1}: p50 ${reps[i]!.p50} ms, p99 ${reps[i]!.p99} ms, max ${reps[i]!.max} ms over ${ms.length} deliveries of ${r.total} requests`,
      );
    }
    const mid = (k: 'p50' | 'p99' | 'httpP50' | 'httpP99'): number => median(reps.map((x) => x[k]));
    return {
      rate,
      delivered: all.length,
      p50: mid('p50'),
      p99: mid('p99'),
      pooledP99: percentile(all, 99),
      httpP50: mid('httpP50'),
      httpP99: mid('httpP99'),
      reps,
    };
  });
}

async function runSoak(config: string, peak: number): Promise<Results['soak']> {
  return withStudyhook(config, 1, 1, async (c) => {
    const out = await soak({
      port: c.ports[0]!,
      pid: c.apis[0]!.pid,
      minutes: opts.soakMinutes,
      rate: Math.round(peak / 2),
      connections: opts.connections,
      adminToken: ADMIN_TOKEN,
    });
    log(
      `soak: RSS ${out.startMb.toFixed(0)} → ${out.endMb.toFixed(0)} MB, trend ${out.slopeMbPerMin.toFixed(2)} MB/min; floor per 30 s ${out.floorsMb.join(', ')} MB, floor trend ${out.floorSlopeMbPerMin.toFixed(2)} MB/min; heap floor ${out.heapFloorsMb.join(', ')} MB, trend ${out.heapFloorSlopeMbPerMin.toFixed(2)} MB/min`,
    );
    await drain(opts.redisUrl, prefix);
    return out;
  });
}

async function scaleOut(
  config: string,
  s: NonNullable<BenchOptions['scale']>,
): Promise<Results['scale']> {
  const rows = [];
  for (let n = 1; n <= s.apis; n++) {
    let busy = 0;
    let cap: CpuCap | undefined;
    const row = await withStudyhook(config, n, s.workers, async (c) => {
      if (opts.scaleCpu) {
        // why: warmed up uncapped first; under a quarter of a core the JIT took several runs to warm, and the reps rose run after run.
        await Promise.all(
          c.ports.map((p) =>
            load({
              url: `http://127.0.0.1:${p}`,
              key: 'sensorlogger',
              connections: opts.connections,
              duration: 3,
            }),
          ),
        );
        await drain(opts.redisUrl, prefix);
        cap = capCpu(
          c.apis.map((p) => p.pid),
          opts.scaleCpu,
          `${runId}-${n}`,
        );
      }
      // why: on a small machine throughput stops growing when the cores are full; the busy share shows whether they were.
      const c0 = machineCpu();
      // why: capped, each API process gets the full load (more processes for more traffic); split, a process serves fewer requests per turn and each costs it more.
      const settings = opts.scaleCpu ? { ...opts, connections: opts.connections * n } : opts;
      const r = await measure(
        `studyhook × ${n} API, ${s.workers} worker(s)`,
        c,
        'sensorlogger',
        () => drain(opts.redisUrl, prefix),
        settings,
      );
      const c1 = machineCpu();
      busy = (c1.busy - c0.busy) / (c1.all - c0.all || 1);
      return r;
    }).finally(() => cap?.release());
    rows.push({
      apis: n,
      workers: s.workers,
      rps: row.rps,
      p99: row.p99,
      machineBusy: busy,
      cpuUs: row.cpuUs,
      apiCores: opts.scaleCpu,
    });
  }
  return rows;
}

async function profile(config: string): Promise<Results['profile']> {
  const dir = join(work, 'cpuprofile');
  // why: the API alone, as in the scenario rows; with --only, the first platform it matches.
  const key = chosen.find((s) => available(s.platform))?.platform ?? 'sensorlogger';
  await withStudyhook(
    config,
    1,
    0,
    (c) =>
      load({
        url: `http://127.0.0.1:${c.ports[0]}`,
        key,
        connections: opts.connections,
        duration: Math.max(opts.duration, 5),
      }),
    ['--cpu-prof', '--cpu-prof-dir', dir],
  );
  const files = (await readdir(dir)).filter((f) => f.endsWith('.cpuprofile'));
  // why: the API process writes its profile on exit; workers were started without the flag.
  const file = join(dir, files[0] ?? '');
  const s = summarise(file, 20);
  log(`profile: ${file} (our code ${((100 * s.oursMs) / s.busyMs).toFixed(1)}% of busy self time)`);
  return { file: file.slice(root.length), ...s };
}

/** Skeleton A, skeleton B and the scenarios the rows measured, each counted under callgrind. */
async function instructions(config: string, skipped: string[]): Promise<Results['instructions']> {
  const missing = callgrindMissing();
  if (missing) {
    skipped.push(`instruction counts (${missing})`);
    return undefined;
  }
  const skeleton = (w: 'a' | 'b'): InstructionTarget => ({
    name: `Skeleton ${w.toUpperCase()}`,
    key: 'skeleton',
    args: nodeTs(`bench/servers/skeleton-${w}.ts`),
    env,
    after: () => obliterate(opts.redisUrl, prefix, `skeleton-${w}`),
  });
  const targets = [
    skeleton('a'),
    skeleton('b'),
    ...chosen
      .filter((s) => available(s.platform))
      .map((s): InstructionTarget => ({
        name: `studyhook: ${s.name}`,
        key: s.platform,
        args: [...cliArgs(), 'api', '--config', config],
        env,
        after: () => obliterate(opts.redisUrl, prefix, sinkQueueName(SINK)),
      })),
  ];
  // why: 4000 requests to warm up whatever is counted: after 1000, B still counted 1035k per request (JIT at work), after 4000 259k.
  // why: a crash or refusal under valgrind costs this section, not the report of a 25-minute run.
  try {
    return await countInstructions(
      targets,
      work,
      { warmup: 4000, requests: opts.instructionRequests, connections: 10 },
      log,
    );
  } catch (err) {
    skipped.push(`instruction counts (${(err as Error).message.split('\n')[0]})`);
    log(`instructions failed: ${(err as Error).message}`);
    return undefined;
  }
}

async function main(): Promise<void> {
  await mkdir(work, { recursive: true });
  redisPid = await localRedisPid(opts.redisUrl);
  const config = await writeConfig(work, opts.redisUrl, prefix);
  const results: Results = {
    startedAt: new Date().toISOString(),
    options: opts,
    argv: process.argv.slice(2),
    prefix,
    rows: [],
    e2e: undefined,
    upload: undefined,
    soak: undefined,
    scale: undefined,
    profile: undefined,
    instructions: undefined,
    forged: undefined,
    sinks: undefined,
    skipped: [],
  };
  try {
    if (!opts.sinksOnly) results.rows.push(...(await ingestRows(config, results.skipped)));
    // why: the whole system on the same cores: the API while its worker delivers everything, to the
    // no-op sink (its rate is what the machine sustains, so the end-to-end and soak loads are set at
    // half of it) and to the archive and Postgres next to their skeletons, the rows taking turns.
    const pgUrl = await reachablePg(opts.pgUrl);
    if (!pgUrl)
      results.skipped.push(
        `the postgres rows (no database at BENCH_PG_URL ${opts.pgUrl.replace(/\/\/[^@/]*@/, '//')})`,
      );
    const sc: SinkCtx = { opts, work, runId, env, redisPid, pgUrl, log };
    const setups = await sinkSetups(sc);
    try {
      const s = await sinkBench(sc, setups);
      results.rows.push(...s.rows);
      results.sinks = { rows: s.rows, drains: s.drains, pg: pgUrl ? 'reachable' : undefined };
    } finally {
      await sinkCleanup(sc, setups);
      for (const x of setups) await deleteKeys(x.prefix);
    }
    const sustained = results.rows.find((r) => r.name.startsWith(SUSTAINED))!;
    const peak = sustained.rps;
    results.e2e = await e2e(config, peak);
    const timed = await timedArchive(sc);
    const archiveRow = results.sinks.rows.find((r) => r.key === 'archive')!;
    results.sinks.fsync = await fsyncProbe(work, opts.quick ? 3 : 10);
    log(
      `fdatasync of a 4 KiB append, alone: p50 ${results.sinks.fsync.p50} ms, p99 ${results.sinks.fsync.p99} ms, max ${results.sinks.fsync.max} ms`,
    );
    // why: at half the archive's own delivered rate, as the no-op figure is taken at half the no-op's.
    try {
      results.sinks.e2e = await e2e(timed.config, archiveRow.deliveredRps ?? archiveRow.rps, timed);
    } finally {
      await deleteKeys(timed.prefix);
      await rm(dirname(timed.config), { recursive: true, force: true });
    }
    if (!opts.sinksOnly)
      results.upload = await uploads({
        config,
        env,
        work,
        reps: opts.reps,
        uploadMb: opts.uploadMb,
        log,
      });
    if (opts.soakMinutes > 0) results.soak = await runSoak(config, peak);
    if (opts.scale) results.scale = await scaleOut(config, opts.scale);
    if (opts.profile) results.profile = await profile(config);
    if (opts.forged)
      results.forged = await forged({
        config,
        env,
        settings: { ...opts, redisPid },
        drain: () => drainWith(config),
        log,
      });
    if (opts.instructionRequests)
      results.instructions = await instructions(config, results.skipped);
  } finally {
    await deleteKeys(prefix);
    await cleanUploads(work).catch(() => undefined);
    await rm(join(work, 'data'), { recursive: true, force: true });
  }
  const out = join(root, 'bench/results');
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'latest.json'), JSON.stringify(results, null, 2) + '\n');
  await writeFile(join(out, 'latest.md'), writeReport(results));
  log('wrote bench/results/latest.json and bench/results/latest.md');
}

/** `--drain-only`: the drain rows of the sink deployments, printed; bench/results is left as it is. */
async function drainOnly(): Promise<void> {
  await mkdir(work, { recursive: true });
  redisPid = await localRedisPid(opts.redisUrl);
  const pgUrl = await reachablePg(opts.pgUrl);
  const sc: SinkCtx = { opts, work, runId, env, redisPid, pgUrl, log };
  const setups = (await sinkSetups(sc)).filter(
    (s) => !opts.only || opts.only.split(',').some((k) => s.key.includes(k)),
  );
  try {
    for (const d of await drainBench(sc, setups))
      log(
        `${d.name}: median ${Math.round(d.median)} events/s (${d.eventsPerSec.join(', ')})` +
          (d.cpu
            ? `; CPU µs/event: worker ${d.cpu.worker}, Redis ${d.cpu.redis}, PostgreSQL ${d.cpu.postgres}`
            : ''),
      );
  } finally {
    await sinkCleanup(sc, setups);
    for (const x of setups) await deleteKeys(x.prefix);
    await rm(work, { recursive: true, force: true });
  }
}

// why: the export bench needs no server and no Redis; it is its own mode.
if (opts.export)
  await exportBench({ quick: opts.quick, reps: opts.reps, work, log }).finally(() =>
    rm(work, { recursive: true, force: true }),
  );
else if (opts.study)
  await studyBench({ quick: opts.quick, reps: opts.reps, work, log }).finally(() =>
    rm(work, { recursive: true, force: true }),
  );
// why: its own mode too: it starts its own Redis Cluster and S3 server, and caps every process.
else if (opts.cluster) {
  await clusterBench({
    quick: opts.quick,
    duration: opts.duration,
    reps: opts.reps,
    connections: opts.connections,
    uploadMb: opts.uploadMb,
    cpu: opts.scaleCpu ?? 0.15,
    redisUrl: opts.redisUrl,
    only: opts.only,
    work,
    log,
  }).finally(() => rm(work, { recursive: true, force: true }));
} else if (opts.drainOnly) await drainOnly();
else await main();
