// `--instructions`: the CPU instructions each server executes per request, counted by callgrind.
// On this machine's shared vCPUs req/s moves by ±20% within a run and CPU time per request by
// 10–25% between runs; an instruction count of the same code and load moves by about ±2% (two
// runs of one studyhook route: 492.9k and 490.8k). It counts user-space instructions only, so the
// kernel's share of a request (socket reads and writes, about the same for every target here) is
// left out, and valgrind runs the server some 80× slower, so it measures cost, never speed.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { builderFor } from './scenarios.js';
import { freePort, root, sleep } from './procs.js';

export interface InstructionTarget { name: string; key: string; args: string[]; env: Record<string, string>; after: () => Promise<void> }
export interface InstructionRow { name: string; key: string; perRequest: number; requests: number; warmup: number }

/** Why the count cannot run here, or undefined when valgrind and callgrind_control are installed. */
export function callgrindMissing(): string | undefined {
  const ok = (cmd: string): boolean => spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
  return ok('valgrind') && ok('callgrind_control') ? undefined : 'valgrind is not installed (Debian: apt-get install valgrind)';
}

async function fire(url: string, key: string, amount: number, connections: number): Promise<void> {
  const build = builderFor(key);
  const first = build();
  const r = await autocannon({
    url, connections, amount, timeout: 120,
    requests: [{ method: first.method, path: first.path, headers: first.headers, body: first.body, setupRequest: (req) => { const b = build(); return { ...req, headers: b.headers, body: b.body }; } }],
  });
  if (r.non2xx || r.errors || r.timeouts) throw new Error(`${url}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`);
}

async function waitHttp(url: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try { await fetch(url); return; } catch { /* not listening yet */ }
    if (child.exitCode !== null) throw new Error(`server under valgrind exited (${child.exitCode})`);
    if (Date.now() > end) throw new Error(`server under valgrind not ready in ${timeoutMs} ms`);
    await sleep(500);
  }
}

/** The total of a callgrind dump (its `summary:` line), once the file is complete. */
async function readTotal(file: string, timeoutMs = 60000): Promise<number> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const text = await readFile(file, 'utf8').catch(() => '');
    const m = /^summary:\s+(\d+)/m.exec(text) ?? /^totals:\s+(\d+)/m.exec(text);
    if (m) return Number(m[1]);
    if (Date.now() > end) throw new Error(`no callgrind dump in ${file}`);
    await sleep(500);
  }
}

/**
 * One target: its server under callgrind with counting off, `warmup` requests (JIT), then counting
 * on for `requests` more, then a dump. `node --single-threaded` runs V8's compiler and GC on the
 * main thread, so their work falls in the count in the same order each run.
 */
async function countOne(t: InstructionTarget, dir: string, o: { warmup: number; requests: number; connections: number }): Promise<InstructionRow> {
  const port = await freePort();
  const out = join(dir, `${t.key}-${port}.callgrind`);
  const child = spawn('valgrind', ['--tool=callgrind', '--smc-check=all-non-file', '--instr-atstart=no', `--callgrind-out-file=${out}`, process.execPath, '--single-threaded', ...t.args],
    { cwd: root, env: { ...process.env, ...t.env, PORT: String(port) }, stdio: 'ignore' });
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitHttp(url, child, 300000);
    await fire(url, t.key, o.warmup, o.connections);
    execFileSync('callgrind_control', ['--instr=on', String(child.pid)], { stdio: 'ignore' });
    await fire(url, t.key, o.requests, o.connections);
    execFileSync('callgrind_control', ['--dump', String(child.pid)], { stdio: 'ignore' });
    const total = await readTotal(`${out}.1`);
    return { name: t.name, key: t.key, perRequest: total / o.requests, requests: o.requests, warmup: o.warmup };
  } finally {
    child.kill('SIGKILL');
    await t.after();
  }
}

/** Each target in turn (each alone on the machine: valgrind uses one core, the load generator the other). */
export async function countInstructions(targets: readonly InstructionTarget[], dir: string, o: { warmup: number; requests: number; connections: number }, log: (msg: string) => void): Promise<InstructionRow[]> {
  const rows: InstructionRow[] = [];
  for (const t of targets) {
    const row = await countOne(t, dir, o);
    log(`instructions: ${t.name}: ${(row.perRequest / 1000).toFixed(1)}k per request (${row.requests} requests counted after ${o.warmup} to warm up)`);
    rows.push(row);
  }
  return rows;
}

/** The report's section: per request, and the skeletons' counts over ours (the req/s ratio a CPU-bound server would reach). */
export function instructionLines(rows: readonly InstructionRow[]): string[] {
  const a = rows.find((x) => x.name === 'Skeleton A')?.perRequest, b = rows.find((x) => x.name === 'Skeleton B')?.perRequest;
  const over = (base: number | undefined, x: number): string => (base ? `${(base / x).toFixed(2)}` : '–');
  return ['', '## Instructions per request (callgrind, `--instructions`)', '',
    `Each server alone under \`valgrind --tool=callgrind\` (\`node --single-threaded\`), 10 connections, ${rows[0]?.requests ?? 0} requests counted after ${rows[0]?.warmup ?? 0} to warm up. User-space instructions only: the kernel's part of each request is not in them. "A / this" and "B / this" are the skeleton's count over the row's: the req/s ratio a server limited by its own CPU would reach (0.60 is the 60%-of-B target).`, '',
    '| Target | k instructions / request | A / this | B / this |', '|---|---:|---:|---:|',
    ...rows.map((x) => `| ${x.name} | ${(x.perRequest / 1000).toFixed(1)} | ${over(a, x.perRequest)} | ${over(b, x.perRequest)} |`)];
}
