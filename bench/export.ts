// `npm run bench -- --export`: the export of a generated 1,000,000-trial Labvanced archive to CSV
// and to Parquet, each beside a floor measured in the same run: Node reading the same files and
// JSON.parse-ing every line. Runs take turns (floor, CSV, Parquet, then again), each in its own process.
import { execFile } from 'node:child_process';
import { mkdir, rm, stat, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeTrialArchive, type ArchiveShape } from './export-archive.js';
import { median, nodeTs, root } from './procs.js';

interface Run {
  what: string;
  events: number;
  ms: number;
  peakRssMb: number;
}

export interface ExportBenchOptions {
  quick: boolean;
  reps: number;
  work: string;
  log: (msg: string) => void;
}

const GIB = 1024;

async function once(what: string, archive: string, out: string): Promise<Run> {
  await rm(out, { recursive: true, force: true });
  const { stdout } = await promisify(execFile)(
    process.execPath,
    nodeTs(join(root, 'bench/export-child.ts'), what, archive, 'stroop', out),
    { cwd: root, maxBuffer: 1 << 24 },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as Run;
}

function report(shape: ArchiveShape, bytes: number, runs: Run[], opts: ExportBenchOptions): string {
  const by = (w: string) => runs.filter((r) => r.what === w);
  const rate = (r: Run) => r.events / (r.ms / 1000);
  const floors = by('floor').map(rate);
  const rows = ['floor', 'csv', 'parquet'].map((w) => {
    const rs = by(w);
    const eps = median(rs.map(rate));
    // why: each round's run against the floor of the same round, since the shared cores move from one minute to the next.
    const paired = rs.map((r, i) => rate(r) / floors[i]!);
    const rss = Math.max(...rs.map((r) => r.peakRssMb));
    const name =
      w === 'floor'
        ? 'floor: Node reads the files, JSON.parse every line'
        : `studyhook export --format ${w}`;
    const goal =
      w === 'floor'
        ? ''
        : `${median(paired) >= 1 ? 'met' : 'not met'} (≥ 1× floor); RSS ${rss < GIB ? 'met' : 'not met'} (< 1 GiB)`;
    return `| ${name} | ${Math.round(eps)} | ${paired.map((x) => `${x.toFixed(2)}×`).join(', ')} (median ${median(paired).toFixed(2)}×) | ${rs.map((r) => (r.ms / 1000).toFixed(1)).join(', ')} | ${rss.toFixed(0)} | ${goal} |`;
  });
  return [
    '# Export bench',
    '',
    `\`npm run bench -- --export${opts.quick ? ' --quick' : ''} --reps ${opts.reps}\`, ${new Date().toISOString()}.`,
    '',
    `Archive: ${shape.sessions * shape.trials} \`labvanced.trial.recorded\` events (${shape.sessions} sessions × ${shape.trials} trials, ${shape.variables} variables each) in ${shape.days} daily files, ${(bytes / 1048576).toFixed(0)} MiB. Each run is its own process; the targets take turns (floor, CSV, Parquet), ${opts.reps} round(s). Events/s is the median over the rounds (events in the archive ÷ wall time of the run, process start excluded); "vs floor" compares each run with the floor of its own round; peak RSS is the largest over the rounds (the process' maxRSS, DuckDB's memory included). The machine's load average when the run ended: ${loadavg()
      .map((x) => x.toFixed(1))
      .join(', ')} (2 cores, shared).`,
    '',
    '| target | events/s (median) | vs floor, per round | wall s per round | peak RSS MB | goal |',
    '|---|---:|---|---|---:|---|',
    ...rows,
    '',
  ].join('\n');
}

/** Generates the archive, measures floor, CSV and Parquet in turns, and writes bench/results/export.{json,md}. */
export async function exportBench(opts: ExportBenchOptions): Promise<void> {
  const shape: ArchiveShape = opts.quick
    ? { sessions: 100, trials: 1000, variables: 20, days: 10 }
    : { sessions: 1000, trials: 1000, variables: 20, days: 10 };
  const archive = join(opts.work, 'export', 'events');
  await mkdir(archive, { recursive: true });
  opts.log(`export: generating ${shape.sessions * shape.trials} trials`);
  const { bytes } = await writeTrialArchive(archive, 'stroop', shape);
  const runs: Run[] = [];
  try {
    for (let i = 0; i < opts.reps; i++) {
      for (const what of ['floor', 'csv', 'parquet']) {
        const r = await once(what, archive, join(opts.work, 'export', `out-${what}`));
        opts.log(
          `export round ${i + 1}: ${what} ${r.events} events in ${(r.ms / 1000).toFixed(2)} s (${Math.round(r.events / (r.ms / 1000))} events/s), peak RSS ${r.peakRssMb.toFixed(0)} MB`,
        );
        runs.push(r);
      }
    }
    const csvBytes = (await stat(join(opts.work, 'export', 'out-csv', 'labvanced_trials.csv')))
      .size;
    opts.log(`export: labvanced_trials.csv ${(csvBytes / 1048576).toFixed(0)} MiB`);
  } finally {
    await rm(join(opts.work, 'export'), { recursive: true, force: true });
  }
  const out = join(root, 'bench/results');
  await writeFile(
    join(out, 'export.json'),
    `${JSON.stringify({ startedAt: new Date().toISOString(), shape, archiveBytes: bytes, reps: opts.reps, runs }, null, 2)}\n`,
  );
  await writeFile(join(out, 'export.md'), report(shape, bytes, runs, opts));
  opts.log('wrote bench/results/export.json and bench/results/export.md');
}
