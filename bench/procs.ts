import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';

export const root = fileURLToPath(new URL('..', import.meta.url));
/** Every child is `node --import tsx <file>`: the pid is the node process, so /proc/<pid> is the server. */
export const nodeTs = (file: string, ...args: string[]): string[] => [
  '--import',
  'tsx',
  file,
  ...args,
];

export interface Proc {
  child: ChildProcess;
  pid: number;
  stop(): Promise<void>;
  output(): string;
}

let started = 0;

/**
 * Starts a child with its stdout and stderr in a file under bench/.work/logs, as a container's log
 * driver would take them: piping them into this process would put the bench's own CPU on the scale.
 */
export function start(
  args: string[],
  env: Record<string, string> = {},
  nodeFlags: string[] = [],
  wrapper: string[] = [],
): Proc {
  const dir = join(root, 'bench/.work/logs');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${process.pid}-${++started}.log`);
  const fd = openSync(file, 'w');
  // why: `wrapper` runs node under another program (valgrind for --instructions); the pid is then the wrapper's.
  const [cmd, ...pre] = [...wrapper, process.execPath];
  const child = spawn(cmd!, [...pre, ...nodeFlags, ...args], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  return {
    child,
    pid: child.pid ?? 0,
    output: () => readFileSync(file, 'utf8').slice(-4000),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) {
          resolve();
          return;
        }
        const kill = setTimeout(() => child.kill('SIGKILL'), 15000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/** Resolves once something accepts TCP connections on the port. */
export async function waitForPort(port: number, proc: Proc, timeoutMs = 30000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (proc.child.exitCode !== null || proc.child.signalCode !== null)
      throw new Error(
        `server exited (${proc.child.exitCode ?? proc.child.signalCode}):\n${proc.output()}`,
      );
    if (Date.now() > end) throw new Error(`port ${port} not ready:\n${proc.output()}`);
    await sleep(100);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A free loopback port (bound then released; good enough on a bench box). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** Resident and peak-resident memory of a process in MB, from /proc (Linux). */
export function memory(pid: number): { rss: number; hwm: number } {
  try {
    const text = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string): number => Number(new RegExp(`${k}:\\s+(\\d+)`).exec(text)?.[1] ?? 0);
    return { rss: kb('VmRSS') / 1024, hwm: kb('VmHWM') / 1024 };
  } catch {
    return { rss: 0, hwm: 0 };
  }
}

/** Runs autocannon in a child process and returns its summary. */
export async function load(opts: {
  url: string;
  key: string;
  connections: number;
  duration: number;
  rate?: number;
  amount?: number;
}): Promise<LoadResult> {
  const p = start(nodeTs('bench/load-child.ts', JSON.stringify(opts)));
  await new Promise<void>((resolve) => p.child.once('exit', () => resolve()));
  const line = p.output().trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as LoadResult;
  } catch {
    throw new Error(`load generator failed:\n${p.output()}`);
  }
}

export interface LoadResult {
  rps: number;
  p50: number;
  p99: number;
  total: number;
  non2xx: number;
  errors: number;
  timeouts: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return 0;
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

/** CPU time (user + system, all threads) a process has used, in seconds, from /proc/<pid>/stat. */
export function processCpu(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

/** CPU time of the whole machine (all cores) from /proc/stat, in seconds: busy and in all. */
export function machineCpu(): { busy: number; all: number } {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.split(/\s+/).slice(1).map(Number);
    const idle = (f[3] ?? 0) + (f[4] ?? 0);
    const all = f.reduce((a, b) => a + b, 0);
    return { busy: (all - idle) / 100, all: all / 100 };
  } catch {
    return { busy: 0, all: 0 };
  }
}

/** Least-squares slope of y over x (per second here). */
export function slope(points: ReadonlyArray<[number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p[0], 0) / n,
    my = points.reduce((s, p) => s + p[1], 0) / n;
  return (
    points.reduce((s, p) => s + (p[0] - mx) * (p[1] - my), 0) /
    (points.reduce((s, p) => s + (p[0] - mx) ** 2, 0) || 1)
  );
}
