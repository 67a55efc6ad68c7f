import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { BenchOptions } from './options.js';
import { instructionLines, type InstructionRow } from './instructions.js';
import type { Summary } from './profile-summary.js';
import type { ForgedResult } from './forged.js';
import { sinkSection, sinkTargets } from './report-sinks.js';
import type { SinkResults } from './sinks.js';
import type { SoakResult } from './soak.js';
import { root } from './procs.js';
import { cliArgs } from './studyhook.js';
import type { UploadResult } from './upload.js';

/** One load target's medians over the repetitions. */
/** `drainMs`: the longest wait, after a repetition, until the queue was empty (with a worker running during the load, a long one means the worker fell behind). */
/** `redisUs`: the local Redis server's CPU time per request (undefined when Redis is not on this machine). */
/** `deliveredRps`: requests of a repetition over its load time plus the time its backlog took to drain (median), where a worker delivers. */
export interface Row {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  reps: number[];
  cpuUs: number;
  drainMs?: number | undefined;
  redisUs?: number | undefined;
  deliveredRps?: number | undefined;
}

/** Everything a run measured (bench/results/latest.json). */
export interface Results {
  startedAt: string;
  options: BenchOptions;
  argv: string[];
  prefix: string;
  rows: Row[];
  skipped: string[];
  /** Medians over the windows (`reps`); `pooledP99` is the p99 of all the windows' deliveries together. */
  e2e:
    | {
        rate: number;
        delivered: number;
        p50: number;
        p99: number;
        pooledP99: number;
        httpP50: number;
        httpP99: number;
        reps: Array<{
          delivered: number;
          p50: number;
          p99: number;
          max: number;
          httpP50: number;
          httpP99: number;
        }>;
      }
    | undefined;
  upload:
    | {
        mb: number;
        raw: UploadResult;
        rawFsync: UploadResult;
        floor: UploadResult;
        studyhook: UploadResult | undefined;
      }
    | undefined;
  soak: SoakResult | undefined;
  scale:
    | Array<{
        apis: number;
        workers: number;
        rps: number;
        p99: number;
        machineBusy: number;
        cpuUs: number;
        apiCores?: number | undefined;
      }>
    | undefined;
  profile: (Summary & { file: string }) | undefined;
  instructions: InstructionRow[] | undefined;
  /** `--forged`: valid and forged Prolific requests, the failure limit on and off. */
  forged?: ForgedResult | undefined;
  /** The sink rows (issue #26): sustained rows with their batch figures, drain rows, the archive's end-to-end. */
  sinks?:
    | (SinkResults & {
        e2e?: Results['e2e'];
        fsync?: { p50: number; p99: number; max: number; n: number };
      })
    | undefined;
  machine?: Record<string, string>;
}

/** Name of the row that measures API and worker together (not one of the ingest scenarios). */
export const SUSTAINED = 'studyhook sustained';

const ratio = (x: number, base: number | undefined): string =>
  base ? `${(x / base).toFixed(2)}×` : '–';
const pass = (ok: boolean): string => (ok ? 'met' : '**not met**');

function machine(): Record<string, string> {
  const sh = (cmd: string): string => {
    try {
      return execSync(cmd, { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] })
        .toString()
        .trim();
    } catch {
      return '?';
    }
  };
  const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { version: string };
  const dep = (n: string): string => {
    try {
      return (
        JSON.parse(readFileSync(`${root}/node_modules/${n}/package.json`, 'utf8')) as {
          version: string;
        }
      ).version;
    } catch {
      return '?';
    }
  };
  return {
    // why: "dirty" means the measured code differs from the commit; results and Markdown docs are not code.
    studyhook: `${pkg.version} (${sh('git rev-parse --short HEAD')}${sh("git status --porcelain -- . ':!bench/results' ':!*.md'") ? ', dirty' : ''})`,
    cli: `node ${cliArgs().join(' ').replace(root, '')}`,
    node: process.version,
    express: dep('express'),
    bullmq: dep('bullmq'),
    autocannon: dep('autocannon'),
    redis: sh(
      `redis-cli -u ${process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379'} INFO server | grep redis_version | cut -d: -f2`,
    ),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`,
    loadavg: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
  };
}

export function writeReport(r: Results): string {
  r.machine = machine();
  const a = r.rows[0],
    b = r.rows[1];
  const o = r.options;
  const lines = [
    `# studyhook benchmark — ${r.startedAt}`,
    '',
    `${o.connections} connections, ${o.reps} × ${o.duration} s per target after a ${o.warmup} s warm-up, the targets taking turns (each round runs every target once), median of the repetitions${o.quick ? ' (**--quick**: short runs, noisy)' : ''}.`,
    'The studyhook scenario rows measure ingest like the skeletons do (HTTP → verify, parse, validate, normalise → durable enqueue → reply), with no worker during the load; a worker drains the queue between repetitions.',
    `The "${SUSTAINED}" row runs the API and a worker delivering to a no-op sink at the same time, on the same cores: what this machine sustains end to end.`,
    'Ratios are against skeleton A and B measured in the same run; see bench/README.md.',
    '',
    'The "server CPU µs/req" column is the server processes\' own CPU time (user + system, all threads, from /proc) during the runs, per request answered (for the sustained and scale rows, the API processes only): a cost per request that moves less with the machine than req/s does. "Redis CPU µs/req" is the Redis server\'s, on the same cores (empty when Redis is not on this machine).',
    '',
    '| Target | req/s | p50 ms | p99 ms | vs A | vs B | server CPU µs/req | Redis CPU µs/req | non-2xx | reps (req/s) | backlog drained in |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|',
    ...r.rows.map(
      (x) =>
        `| ${x.name} | ${x.rps.toFixed(0)} | ${x.p50} | ${x.p99} | ${ratio(x.rps, a?.rps)} | ${ratio(x.rps, b?.rps)} | ${x.cpuUs} | ${x.redisUs ?? ''} | ${x.non2xx} | ${x.reps.join(', ')} | ${x.drainMs === undefined ? '' : `${x.drainMs} ms`} |`,
    ),
  ];
  if (r.skipped.length) lines.push('', `Not measured: ${r.skipped.join('; ')}.`);
  const ingest = r.rows.filter((x) => x.name.startsWith('studyhook: '));
  const short = (x: Row): string => x.name.replace('studyhook: ', '').split(' ')[0]!;
  const each = (f: (x: Row) => string): string =>
    ingest.map((x) => `${short(x)} ${f(x)}`).join(', ');
  lines.push('', '## Targets', '', '| Target | Figure | Status |', '|---|---|---|');
  if (ingest.length && a && b) {
    lines.push(
      `| Full pipeline ≥ 1.2× skeleton A | ${each((x) => ratio(x.rps, a.rps))} | ${pass(ingest.every((x) => x.rps >= 1.2 * a.rps))} |`,
    );
    lines.push(
      `| Full pipeline ≥ 60% of skeleton B | ${each((x) => `${((100 * x.rps) / b.rps).toFixed(0)}%`)} | ${pass(ingest.every((x) => x.rps >= 0.6 * b.rps))} |`,
    );
    lines.push(
      `| p99 no worse than A's (${a.p99} ms) | ${each((x) => `${x.p99} ms`)} | ${pass(ingest.every((x) => x.p99 <= a.p99))} |`,
    );
  }
  const u = r.upload;
  if (u?.studyhook) {
    lines.push(
      `| Upload ≥ 90% of raw stream | ${((100 * u.studyhook.mbPerSec) / u.raw.mbPerSec).toFixed(0)}% (${((100 * u.studyhook.mbPerSec) / u.rawFsync.mbPerSec).toFixed(0)}% of raw + fsync, ${((100 * u.studyhook.mbPerSec) / u.floor.mbPerSec).toFixed(0)}% of the floor: busboy + sha256 + fsync) | ${pass(u.studyhook.mbPerSec >= 0.9 * u.raw.mbPerSec)} |`,
    );
    lines.push(
      `| Upload peak RSS < 150 MB | ${u.studyhook.peakRssMb.toFixed(0)} MB (idle ${u.studyhook.idleRssMb.toFixed(0)} MB) | ${pass(u.studyhook.peakRssMb < 150)} |`,
    );
  } else
    lines.push(
      '| Upload vs raw stream | no multipart route (Labvanced adapter) yet | not measured |',
    );
  lines.push(...sinkTargets(r));
  if (r.e2e)
    lines.push(
      `| Ingest-to-sink p50 ≤ 10 ms, p99 ≤ 50 ms at half peak | p50 ${r.e2e.p50} ms, p99 ${r.e2e.p99} ms (median of ${r.e2e.reps.length} windows; p99 of each: ${r.e2e.reps.map((x) => x.p99).join(', ')} ms) | ${pass(r.e2e.p50 <= 10 && r.e2e.p99 <= 50)} |`,
    );
  if (r.forged) {
    const on = r.forged.ratios.filter((x) => x.limit);
    const worst = on.reduce((m, x) => Math.max(m, x.ratio), 0);
    lines.push(
      `| Forged flood < 2× the CPU of as many valid requests of the same size (default config) | ${on.map((x) => `${x.name.split(' (')[0]} ${x.ratio.toFixed(2)}× (${x.vsSmallValid.toFixed(2)}× a valid 141 B one)`).join(', ')} | ${pass(worst < 2)} |`,
    );
  }
  lines.push(
    r.soak
      ? `| Memory flat over the soak: no growth of the post-GC floor | RSS floor ${r.soak.floorSlopeMbPerMin.toFixed(2)} MB/min (all samples ${r.soak.slopeMbPerMin.toFixed(2)} MB/min), V8 heap floor ${r.soak.heapFloorSlopeMbPerMin.toFixed(2)} MB/min, over ${r.soak.minutes} min | ${pass(r.soak.floorSlopeMbPerMin < 1)} |`
      : '| Memory flat over a 5-minute soak | run with --soak | not measured |',
  );
  if (u) {
    const row = (name: string, x: UploadResult): string =>
      `| ${name} | ${x.mbPerSec.toFixed(0)} | ${x.reps?.join(', ') ?? ''} | ${x.seconds.toFixed(1)} | ${x.peakRssMb.toFixed(0)} | ${x.idleRssMb.toFixed(0)} | ${ratio(x.mbPerSec, u.raw.mbPerSec)} | ${ratio(x.mbPerSec, u.rawFsync.mbPerSec)} | ${ratio(x.mbPerSec, u.floor.mbPerSec)} |`;
    lines.push(
      '',
      `## Upload (${u.mb} MiB, one request; median of ${o.reps}, the four servers alternating)`,
      '',
      '| Server | MB/s | reps | s | peak RSS MB | idle RSS MB | vs raw | vs raw + fsync | vs floor |',
      '|---|---:|---|---:|---:|---:|---:|---:|---:|',
    );
    lines.push(
      row('raw node:http → disk (page cache, no fsync)', u.raw),
      row('raw node:http → disk, fsync before the reply', u.rawFsync),
      row('floor: node:http + busboy + sha256 → disk, fsync before the reply', u.floor),
    );
    if (u.studyhook)
      lines.push(
        row(
          `studyhook ${'`/file_upload`'} (HTTP ${u.studyhook.status}): multipart, sha256, fsync`,
          u.studyhook,
        ),
      );
  }
  if (r.e2e) {
    const e = r.e2e;
    lines.push(
      '',
      '## End-to-end (request received → no-op sink)',
      '',
      `At ${e.rate} req/s (half the sustained rate), ${e.reps.length} window${e.reps.length === 1 ? '' : 's'}, median of the windows: p50 ${e.p50} ms, p99 ${e.p99} ms; HTTP p50 ${e.httpP50} ms, p99 ${e.httpP99} ms. All ${e.delivered} deliveries together: p99 ${e.pooledP99} ms.`,
      '',
      '| Window | deliveries | p50 ms | p99 ms | max ms | HTTP p50 ms | HTTP p99 ms |',
      '|---:|---:|---:|---:|---:|---:|---:|',
      ...e.reps.map(
        (x, i) =>
          `| ${i + 1} | ${x.delivered} | ${x.p50} | ${x.p99} | ${x.max} | ${x.httpP50} | ${x.httpP99} |`,
      ),
    );
  }
  lines.push(...sinkSection(r));
  if (r.forged) {
    const f = r.forged;
    const base = (x: Row): number | undefined => f.rows[x.name.includes('170 KiB') ? 1 : 0]?.cpuUs;
    lines.push(
      '',
      '## Forged Prolific requests (`--forged`)',
      '',
      'All load comes from one client (this machine). Valid rows run on an API process of their own (valid senders have their own addresses); forged requests are signed with a key the gateway does not know. With the failure limit on (`server.verifyFailureLimit`, the default), the client\'s first failures are verified and the rest answered 429 before their body is read (a body over 16 KiB: the connection is dropped); with it off, every one is verified (an HMAC over the raw bytes, and the json.dumps form only for bodies up to 16 KiB). "vs valid" is the server CPU per request over the valid row with the same body size. non-2xx is all of a forged row (401 or 429).',
      '',
      '| Target | req/s | p99 ms | server CPU µs/req | vs valid | non-2xx | errors | reps (req/s) |',
      '|---|---:|---:|---:|---:|---:|---:|---|',
      ...f.rows.map(
        (x) =>
          `| ${x.name} | ${x.rps.toFixed(0)} | ${x.p99} | ${x.cpuUs} | ${ratio(x.cpuUs, base(x))} | ${x.non2xx} | ${x.errors} | ${x.reps.join(', ')} |`,
      ),
    );
  }
  if (r.soak)
    lines.push(
      '',
      '## Soak',
      '',
      `${r.soak.minutes} min at half peak, ${r.soak.samples} RSS samples of the API process: ${r.soak.startMb.toFixed(0)} → ${r.soak.endMb.toFixed(0)} MB after warm-up, trend ${r.soak.slopeMbPerMin.toFixed(2)} MB/min. The lowest RSS of each 30 s window (the floor a leak would raise): ${r.soak.floorsMb.join(', ')} MB, trend ${r.soak.floorSlopeMbPerMin.toFixed(2)} MB/min. The lowest used V8 heap of each 30 s window (from the API's /metrics): ${r.soak.heapFloorsMb.join(', ')} MB, trend ${r.soak.heapFloorSlopeMbPerMin.toFixed(2)} MB/min.`,
      '',
      `RSS every 10 s (s: MB): ${r.soak.everyTenSeconds.map(([t, mb]) => `${t}: ${mb}`).join(', ')}`,
    );
  if (r.scale) {
    const one = r.scale[0]?.rps;
    const cores = r.scale[0]?.apiCores;
    const capped = cores
      ? ` Each API process was capped at ${cores} of a core (its own cgroup, CFS quota; \`--scale-cpu ${cores}\`), so that the machine has room for all of them, and each one got the full ${o.connections} connections (warmed up uncapped first): the rows show whether processes add up, not what a bigger host reaches.`
      : '';
    lines.push(
      '',
      '## Scale-out (one Redis)',
      '',
      `Load: one autocannon per API port, ${o.connections} connections in all, the workers delivering meanwhile. "machine busy" is the share of all ${os.cpus().length} cores in use during the row (load generator and Redis included): where it is near 100%, more processes cannot add throughput on this machine.${capped}`,
      '',
      '| API processes | workers | req/s | vs 1 API | p99 ms | API CPU µs/req | machine busy |',
      '|---:|---:|---:|---:|---:|---:|---:|',
      ...r.scale.map(
        (s) =>
          `| ${s.apis} | ${s.workers} | ${s.rps.toFixed(0)} | ${ratio(s.rps, one)} | ${s.p99} | ${s.cpuUs} | ${(100 * s.machineBusy).toFixed(0)}% |`,
      ),
    );
  }
  if (r.profile) {
    lines.push(
      '',
      '## CPU profile of the API under load (self time)',
      '',
      `${r.profile.file}: ${r.profile.busyMs.toFixed(0)} of ${r.profile.totalMs.toFixed(0)} ms busy (the rest idle: waiting for Redis or for a core); our code (src/, adapters/) ${((100 * r.profile.oursMs) / r.profile.busyMs).toFixed(1)}% of busy. Shares are of busy time.`,
      '',
      '| share | ms | module |',
      '|---:|---:|---|',
      ...r.profile.byModule.map(
        (m) => `| ${(100 * m.share).toFixed(1)}% | ${m.selfMs.toFixed(0)} | ${m.module} |`,
      ),
      '',
      '| share | ms | function | where |',
      '|---:|---:|---|---|',
    );
    lines.push(
      ...r.profile.hot.map(
        (h) =>
          `| ${(100 * h.share).toFixed(1)}% | ${h.selfMs.toFixed(0)} | ${h.ours ? '**' + h.fn + '**' : h.fn} | ${h.where} |`,
      ),
    );
  }
  if (r.instructions) lines.push(...instructionLines(r.instructions));
  lines.push(
    '',
    '## Machine and versions',
    '',
    ...Object.entries(r.machine).map(([k, v]) => `- ${k}: ${v}`),
  );
  lines.push(
    '',
    '## Commands',
    '',
    '```',
    `npm run bench -- ${r.argv.join(' ')}`.trim(),
    ...commands(),
    '```',
    '',
  );
  return lines.join('\n');
}

function commands(): string[] {
  return [
    '# servers (each its own process; PORT from the bench)',
    'node --import tsx bench/servers/skeleton-a.ts | skeleton-b.ts | raw-upload.ts | floor-upload.ts',
    'node --import tsx src/cli.ts api --config bench/.work/<run>/studyhook.yml   # node dist/src/cli.js when built',
    'node --import tsx src/cli.ts worker --config bench/.work/<run>/studyhook.yml',
    '# load (its own process)',
    'node --import tsx bench/load-child.ts \'{"url":"http://127.0.0.1:<port>","key":"<platform|skeleton>","connections":50,"duration":5}\'',
  ];
}
