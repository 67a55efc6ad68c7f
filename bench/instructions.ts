// `--instructions`: the CPU instructions each server executes per request, counted by callgrind.
// On this machine's shared vCPUs req/s moves by ±20% within a run and CPU time per request by
// 10–25% between runs; an instruction count of the same code and load mostly moves by ±2% (two runs
// of one studyhook route in a scratch harness: 492.9k and 490.8k), at times by ~10% (ActiGraph at
// 360783f: 505.6k and 555.2k; the JIT does not decide alike every run). It counts user-space
// instructions only, so the kernel's share of a request (socket reads and writes, about the same
// for every target here) is left out, and valgrind runs the server some 80× slower, so it measures
// cost, never speed.
import { execFileSync, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, load, sleep, start, waitForPort, type Proc } from './procs.js';

export interface InstructionTarget {
  name: string;
  key: string;
  args: string[];
  env: Record<string, string>;
  after: () => Promise<void>;
}
export interface InstructionRow {
  name: string;
  key: string;
  perRequest: number;
  requests: number;
  warmup: number;
}

/** Why the count cannot run here, or undefined when valgrind and callgrind_control are installed. */
export function callgrindMissing(): string | undefined {
  const ok = (cmd: string): boolean =>
    spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
  return ok('valgrind') && ok('callgrind_control')
    ? undefined
    : 'valgrind is not installed (Debian: apt-get install valgrind)';
}

/** `amount` requests from the bench's load generator; any error reply makes the count meaningless. */
async function send(port: number, key: string, amount: number, connections: number): Promise<void> {
  const r = await load({ url: `http://127.0.0.1:${port}`, key, connections, duration: 0, amount });
  if (r.non2xx || r.errors || r.timeouts)
    throw new Error(
      `port ${port}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`,
    );
}

/** The total of a callgrind dump: its `totals:` line, the last one callgrind writes. */
async function readTotal(file: string, timeoutMs = 60000): Promise<number> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const m = /^totals:\s+(\d+)/m.exec(await readFile(file, 'utf8').catch(() => ''));
    if (m) return Number(m[1]);
    if (Date.now() > end) throw new Error(`no callgrind totals in ${file}`);
    await sleep(500);
  }
}

async function kill(p: Proc): Promise<void> {
  if (p.child.exitCode !== null || p.child.signalCode !== null) return;
  const exited = once(p.child, 'exit');
  p.child.kill('SIGKILL');
  await exited;
}

/**
 * One target: its server under callgrind with counting off, `warmup` requests (JIT), then counting
 * on for `requests` more, then a dump. `node --single-threaded` runs V8's compiler and GC on the
 * main thread, so their work falls in the count in the same order each run.
 */
async function countOne(
  t: InstructionTarget,
  dir: string,
  o: { warmup: number; requests: number; connections: number },
): Promise<InstructionRow> {
  const port = await freePort();
  const out = join(dir, `${t.key}-${port}.callgrind`);
  // why: valgrind's FIFOs for callgrind_control; a killed valgrind leaves them, so they go in `dir` and are removed below.
  const vgdb = `--vgdb-prefix=${join(dir, `vgdb-${port}`)}`;
  const p = start(
    t.args,
    { ...t.env, PORT: String(port) },
    ['--single-threaded'],
    [
      'valgrind',
      '--tool=callgrind',
      '--smc-check=all-non-file',
      '--instr-atstart=no',
      vgdb,
      `--callgrind-out-file=${out}`,
    ],
  );
  const control = (arg: string): void => {
    execFileSync('callgrind_control', [vgdb, arg, String(p.pid)], {
      stdio: 'ignore',
      timeout: 60000,
    });
  };
  try {
    await waitForPort(port, p, 300000);
    await send(port, t.key, o.warmup, o.connections);
    control('--instr=on');
    await send(port, t.key, o.requests, o.connections);
    control('--dump');
    const total = await readTotal(`${out}.1`);
    return {
      name: t.name,
      key: t.key,
      perRequest: total / o.requests,
      requests: o.requests,
      warmup: o.warmup,
    };
  } catch (err) {
    throw new Error(`${t.name} under callgrind: ${(err as Error).message}\n${p.output()}`, {
      cause: err,
    });
  } finally {
    await kill(p);
    for (const f of await readdir(dir))
      if (f.startsWith(`vgdb-${port}`)) await rm(join(dir, f), { force: true });
    await t.after().catch(() => undefined);
  }
}

/** Each target in turn (each alone on the machine: valgrind uses one core, the load generator the other). */
export async function countInstructions(
  targets: readonly InstructionTarget[],
  dir: string,
  o: { warmup: number; requests: number; connections: number },
  log: (msg: string) => void,
): Promise<InstructionRow[]> {
  const rows: InstructionRow[] = [];
  for (const t of targets) {
    const row = await countOne(t, dir, o);
    log(
      `instructions: ${t.name}: ${(row.perRequest / 1000).toFixed(1)}k per request (${row.requests} requests counted after ${o.warmup} to warm up)`,
    );
    rows.push(row);
  }
  return rows;
}

/** The report's section: per request, and the skeletons' counts over ours (the req/s ratio a CPU-bound server would reach). */
export function instructionLines(rows: readonly InstructionRow[]): string[] {
  const a = rows.find((x) => x.name === 'Skeleton A')?.perRequest,
    b = rows.find((x) => x.name === 'Skeleton B')?.perRequest;
  const over = (base: number | undefined, x: number): string =>
    base ? `${(base / x).toFixed(2)}` : '–';
  return [
    '',
    '## Instructions per request (callgrind, `--instructions`)',
    '',
    `Each server alone under \`valgrind --tool=callgrind\` (\`node --single-threaded\`), 10 connections, ${rows[0]?.requests ?? 0} requests counted after ${rows[0]?.warmup ?? 0} to warm up. User-space instructions only: the kernel's part of each request is not in them. "A / this" and "B / this" are the skeleton's count over the row's: the req/s ratio a server limited by its own CPU would reach (0.60 is the 60%-of-B target).`,
    '',
    '| Target | k instructions / request | A / this | B / this |',
    '|---|---:|---:|---:|',
    ...rows.map(
      (x) =>
        `| ${x.name} | ${(x.perRequest / 1000).toFixed(1)} | ${over(a, x.perRequest)} | ${over(b, x.perRequest)} |`,
    ),
  ];
}
