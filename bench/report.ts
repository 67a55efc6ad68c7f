import { execSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { BenchOptions } from './options.js';
import type { Summary } from './profile-summary.js';
import { root } from './procs.js';
import { cliArgs } from './studyhook.js';
import type { UploadResult } from './upload.js';

/** One load target's medians over the repetitions. */
export interface Row { name: string; rps: number; p50: number; p99: number; non2xx: number; errors: number; reps: number[] }

/** Everything a run measured (bench/results/latest.json). */
export interface Results {
  startedAt: string; options: BenchOptions; argv: string[]; prefix: string; rows: Row[]; skipped: string[];
  e2e: { rate: number; delivered: number; p50: number; p99: number; httpP50: number; httpP99: number } | undefined;
  upload: { mb: number; raw: UploadResult; studyhook: UploadResult | undefined } | undefined;
  soak: { minutes: number; startMb: number; endMb: number; slopeMbPerMin: number; samples: number } | undefined;
  scale: Array<{ apis: number; workers: number; rps: number; p99: number }> | undefined;
  profile: (Summary & { file: string }) | undefined;
  machine?: Record<string, string>;
}

const ratio = (x: number, base: number | undefined): string => (base ? `${(x / base).toFixed(2)}×` : '–');
const pass = (ok: boolean): string => (ok ? 'met' : '**not met**');

function machine(): Record<string, string> {
  const sh = (cmd: string): string => { try { return execSync(cmd, { cwd: root, stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim(); } catch { return '?'; } };
  const pkg = JSON.parse(readFileSync(`${root}/package.json`, 'utf8')) as { version: string };
  const dep = (n: string): string => { try { return (JSON.parse(readFileSync(`${root}/node_modules/${n}/package.json`, 'utf8')) as { version: string }).version; } catch { return '?'; } };
  return {
    studyhook: `${pkg.version} (${sh('git rev-parse --short HEAD')}${sh("git status --porcelain -- . ':!bench/results'") ? ', dirty' : ''})`,
    cli: `node ${cliArgs().join(' ').replace(root, '')}`,
    node: process.version, express: dep('express'), bullmq: dep('bullmq'), autocannon: dep('autocannon'),
    redis: sh(`redis-cli -u ${process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379'} INFO server | grep redis_version | cut -d: -f2`),
    os: `${os.type()} ${os.release()} ${os.arch()}`, cpus: `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`,
    memory: `${(os.totalmem() / 2 ** 30).toFixed(1)} GiB`, loadavg: os.loadavg().map((l) => l.toFixed(2)).join(' '),
  };
}

export function writeReport(r: Results): string {
  r.machine = machine();
  const a = r.rows[0], b = r.rows[1];
  const o = r.options;
  const lines = [
    `# studyhook benchmark — ${r.startedAt}`, '',
    `${o.connections} connections, ${o.reps} × ${o.duration} s per target after a ${o.warmup} s warm-up, median of the repetitions${o.quick ? ' (**--quick**: short runs, noisy)' : ''}.`,
    o.apiOnly ? 'studyhook ran without a worker during the load, like the skeletons (--api-only).' : 'studyhook ran with its worker delivering during the load (the skeletons have none), so the comparison is conservative for studyhook on a small machine.',
    'Ratios are against skeleton A and B measured in the same run; see bench/README.md.', '',
    '| Target | req/s | p50 ms | p99 ms | vs A | vs B | non-2xx | reps (req/s) |', '|---|---:|---:|---:|---:|---:|---:|---|',
    ...r.rows.map((x) => `| ${x.name} | ${x.rps.toFixed(0)} | ${x.p50} | ${x.p99} | ${ratio(x.rps, a?.rps)} | ${ratio(x.rps, b?.rps)} | ${x.non2xx} | ${x.reps.join(', ')} |`),
  ];
  if (r.skipped.length) lines.push('', `Not measured: ${r.skipped.join('; ')}.`);
  const sl = r.rows.find((x) => x.name.includes('Sensor Logger'));
  lines.push('', '## Targets', '', '| Target | Figure | Status |', '|---|---|---|');
  if (sl && a && b) {
    lines.push(`| Full pipeline ≥ 1.2× skeleton A | ${ratio(sl.rps, a.rps)} | ${pass(sl.rps >= 1.2 * a.rps)} |`);
    lines.push(`| Full pipeline ≥ 60% of skeleton B | ${(100 * sl.rps / b.rps).toFixed(0)}% | ${pass(sl.rps >= 0.6 * b.rps)} |`);
    lines.push(`| p99 no worse than A's | ${sl.p99} ms vs ${a.p99} ms | ${pass(sl.p99 <= a.p99)} |`);
  }
  const u = r.upload;
  if (u?.studyhook) {
    lines.push(`| Upload ≥ 90% of raw stream | ${(100 * u.studyhook.mbPerSec / u.raw.mbPerSec).toFixed(0)}% | ${pass(u.studyhook.mbPerSec >= 0.9 * u.raw.mbPerSec)} |`);
    lines.push(`| Upload peak RSS < 150 MB | ${u.studyhook.peakRssMb.toFixed(0)} MB (idle ${u.studyhook.idleRssMb.toFixed(0)} MB) | ${pass(u.studyhook.peakRssMb < 150)} |`);
  } else lines.push('| Upload vs raw stream | no multipart route (Labvanced adapter) yet | not measured |');
  if (r.e2e) lines.push(`| Ingest-to-sink p50 ≤ 10 ms, p99 ≤ 50 ms at half peak | p50 ${r.e2e.p50} ms, p99 ${r.e2e.p99} ms | ${pass(r.e2e.p50 <= 10 && r.e2e.p99 <= 50)} |`);
  lines.push(r.soak ? `| Memory flat over the soak | ${r.soak.slopeMbPerMin.toFixed(2)} MB/min over ${r.soak.minutes} min | ${pass(Math.abs(r.soak.slopeMbPerMin) < 1)} |` : '| Memory flat over a 5-minute soak | run with --soak | not measured |');
  if (u) {
    lines.push('', `## Upload (${u.mb} MiB, one request)`, '', '| Server | MB/s | s | peak RSS MB | idle RSS MB | vs raw |', '|---|---:|---:|---:|---:|---:|');
    lines.push(`| raw node:http → disk | ${u.raw.mbPerSec.toFixed(0)} | ${u.raw.seconds.toFixed(1)} | ${u.raw.peakRssMb.toFixed(0)} | ${u.raw.idleRssMb.toFixed(0)} | 1.00× |`);
    if (u.studyhook) lines.push(`| studyhook ${'`/file_upload`'} (HTTP ${u.studyhook.status}) | ${u.studyhook.mbPerSec.toFixed(0)} | ${u.studyhook.seconds.toFixed(1)} | ${u.studyhook.peakRssMb.toFixed(0)} | ${u.studyhook.idleRssMb.toFixed(0)} | ${ratio(u.studyhook.mbPerSec, u.raw.mbPerSec)} |`);
  }
  if (r.e2e) lines.push('', '## End-to-end (request received → no-op sink)', '', `At ${r.e2e.rate} req/s (half the measured Sensor Logger peak): p50 ${r.e2e.p50} ms, p99 ${r.e2e.p99} ms over ${r.e2e.delivered} deliveries; HTTP p50 ${r.e2e.httpP50} ms, p99 ${r.e2e.httpP99} ms.`);
  if (r.soak) lines.push('', '## Soak', '', `${r.soak.minutes} min at half peak, ${r.soak.samples} RSS samples of the API process: ${r.soak.startMb.toFixed(0)} → ${r.soak.endMb.toFixed(0)} MB after warm-up, trend ${r.soak.slopeMbPerMin.toFixed(2)} MB/min.`);
  if (r.scale) {
    const one = r.scale[0]?.rps;
    lines.push('', '## Scale-out (one Redis)', '', '| API processes | workers | req/s | vs 1 API | p99 ms |', '|---:|---:|---:|---:|---:|', ...r.scale.map((s) => `| ${s.apis} | ${s.workers} | ${s.rps.toFixed(0)} | ${ratio(s.rps, one)} | ${s.p99} |`));
  }
  if (r.profile) {
    lines.push('', '## CPU profile of the API under load (self time)', '', `${r.profile.file}: ${r.profile.busyMs.toFixed(0)} of ${r.profile.totalMs.toFixed(0)} ms busy (the rest idle: waiting for Redis or for a core); our code (src/, adapters/) ${(100 * r.profile.oursMs / r.profile.busyMs).toFixed(1)}% of busy. Shares are of busy time.`, '', '| share | ms | module |', '|---:|---:|---|', ...r.profile.byModule.map((m) => `| ${(100 * m.share).toFixed(1)}% | ${m.selfMs.toFixed(0)} | ${m.module} |`), '', '| share | ms | function | where |', '|---:|---:|---|---|');
    lines.push(...r.profile.hot.map((h) => `| ${(100 * h.share).toFixed(1)}% | ${h.selfMs.toFixed(0)} | ${h.ours ? '**' + h.fn + '**' : h.fn} | ${h.where} |`));
  }
  lines.push('', '## Machine and versions', '', ...Object.entries(r.machine).map(([k, v]) => `- ${k}: ${v}`));
  lines.push('', '## Commands', '', '```', `npm run bench -- ${r.argv.join(' ')}`.trim(), ...commands(), '```', '');
  return lines.join('\n');
}

function commands(): string[] {
  return [
    '# servers (each its own process; PORT from the bench)',
    'node --import tsx bench/servers/skeleton-a.ts | skeleton-b.ts | raw-upload.ts',
    'node --import tsx src/cli.ts api --config bench/.work/<run>/studyhook.yml   # node dist/src/cli.js when built',
    'node --import tsx src/cli.ts worker --config bench/.work/<run>/studyhook.yml',
    '# load (its own process)',
    'node --import tsx bench/load-child.ts \'{"url":"http://127.0.0.1:<port>","key":"<platform|skeleton>","connections":50,"duration":5}\'',
  ];
}
