// `npm run bench -- --study`: `studyhook study status` on a generated Prolific + Labvanced study of
// 10,000 participants and about 2 million events, beside the export bench's floor (Node reading the
// same files and JSON.parse-ing every line). Runs take turns (floor, status), each in its own process.
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeStudyArchive, type StudyShape } from './study-archive.js';
import { median, nodeTs, root } from './procs.js';

interface Run {
  what: string;
  events: number;
  ms: number;
  peakRssMb: number;
}
export interface StudyBenchOptions {
  quick: boolean;
  reps: number;
  work: string;
  log: (msg: string) => void;
}

const TARGET_S = 30;
const GIB = 1024;

async function once(what: string, archive: string, config: string): Promise<Run> {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    nodeTs(join(root, 'bench/study-child.ts'), what, archive, config),
    { cwd: root, maxBuffer: 1 << 24 },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as Run;
}

function report(shape: StudyShape, events: number, runs: Run[], opts: StudyBenchOptions): string {
  const by = (w: string) => runs.filter((r) => r.what === w);
  const floors = by('floor');
  const rows = ['floor', 'status'].map((w) => {
    const rs = by(w);
    const s = rs.map((r) => r.ms / 1000);
    const rss = Math.max(...rs.map((r) => r.peakRssMb));
    const paired = rs.map((r, i) => r.ms / floors[i]!.ms);
    const name =
      w === 'floor'
        ? 'floor: Node reads the files, JSON.parse every line'
        : '`studyhook study status` (whole process)';
    const goal =
      w === 'floor'
        ? ''
        : `${median(s) <= TARGET_S ? 'met' : 'not met'} (≤ ${TARGET_S} s); RSS ${rss < GIB ? 'met' : 'not met'} (< 1 GiB)`;
    return `| ${name} | ${s.map((x) => x.toFixed(1)).join(', ')} (median ${median(s).toFixed(1)}) | ${paired.map((x) => `${x.toFixed(2)}×`).join(', ')} | ${rss.toFixed(0)} | ${goal} |`;
  });
  return [
    '# Study bench',
    '',
    `\`npm run bench -- --study${opts.quick ? ' --quick' : ''} --reps ${opts.reps}\`, ${new Date().toISOString()}.`,
    '',
    `Archive: a Prolific + Labvanced study of ${shape.participants} participants, ${events} events (${shape.tasks} tasks × ${shape.trialsPerTask} trials of ${shape.variables} variables per finished session; 89% finish, 3% fail, 2% lose a trial, 5% return or time out, 1% send no data) in ${shape.days} daily files per platform. Each run is its own process; floor and status take turns, ${opts.reps} round(s). Wall time excludes process start; peak RSS is the process' maxRSS (DuckDB included); "time vs floor" divides each status run by the floor of its round. The machine's load average when the run ended: ${loadavg()
      .map((x) => x.toFixed(1))
      .join(', ')} (2 cores, shared).`,
    '',
    '| target | wall s per round | time vs floor | peak RSS MB | goal |',
    '|---|---|---|---:|---|',
    ...rows,
    '',
  ].join('\n');
}

/** Generates the archive, measures floor and status in turns, and writes bench/results/study.{json,md}. */
export async function studyBench(opts: StudyBenchOptions): Promise<void> {
  const shape: StudyShape = opts.quick
    ? { participants: 1000, tasks: 2, trialsPerTask: 104, variables: 10, days: 10 }
    : { participants: 10_000, tasks: 2, trialsPerTask: 104, variables: 10, days: 10 };
  const dir = join(opts.work, 'study');
  const archive = join(dir, 'events');
  await mkdir(archive, { recursive: true });
  const config = join(dir, 'studyhook.yml');
  await writeFile(
    config,
    `dataDir: ${JSON.stringify(dir)}\nstudies:\n  bench:\n    namespaces: { prolific: lab, labvanced: stroop }\n    expect: { labvanced: { trials: ${shape.tasks * shape.trialsPerTask}, files: 1 } }\n`,
  );
  opts.log(`study: generating ${shape.participants} participants`);
  const { events } = await writeStudyArchive(archive, shape);
  const runs: Run[] = [];
  try {
    for (let i = 0; i < opts.reps; i++) {
      for (const what of ['floor', 'status']) {
        const r = await once(what, archive, config);
        opts.log(
          `study round ${i + 1}: ${what} ${r.events} events in ${(r.ms / 1000).toFixed(2)} s, peak RSS ${r.peakRssMb.toFixed(0)} MB`,
        );
        runs.push(r);
      }
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const out = join(root, 'bench/results');
  await writeFile(
    join(out, 'study.json'),
    `${JSON.stringify({ startedAt: new Date().toISOString(), shape, events, reps: opts.reps, runs }, null, 2)}\n`,
  );
  await writeFile(join(out, 'study.md'), report(shape, events, runs, opts));
  opts.log('wrote bench/results/study.json and bench/results/study.md');
}
