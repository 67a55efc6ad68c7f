import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { waitFor } from './gateway.js';
import { studyhookArgs } from './studyhook-cli.js';

const root = new URL('../../', import.meta.url).pathname;

/** Ports handed out by this process: never handed out twice. */
const given = new Set<number>();
/** Ports each mocha worker draws from: below the kernel's ephemeral range (32768 and up here). */
const SLICE = 2500;

/** Whether `port` can be bound on loopback right now. */
const bindable = (port: number): Promise<boolean> =>
  new Promise((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });

/**
 * A port for a server a test starts later. why not the kernel's pick (listen on 0): that port is
 * free again once closed, so a test file running in another mocha worker could get the same one
 * before this one's server bound it, and a test then talked to the other file's server (404s and
 * time-outs in one CI run). Each worker draws from a slice of its own, below the ephemeral range,
 * never the same port twice, and only a port that binds.
 */
export async function freePort(): Promise<number> {
  const worker = Number(process.env['MOCHA_WORKER_ID'] ?? 0) % 4;
  const base = 20000 + worker * SLICE;
  for (;;) {
    const port = base + Math.floor(Math.random() * SLICE);
    if (given.has(port)) continue;
    given.add(port);
    if (await bindable(port)) return port;
  }
}

/** A private redis-server with AOF fsync'd on every write (what "acknowledged is durable" needs). */
export async function startRedis(port: number, dir: string): Promise<ChildProcess> {
  const proc = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--dir',
      dir,
    ],
    { stdio: 'ignore' },
  );
  await waitForRedis(port);
  return proc;
}

/** Waits until a redis-server (or a sentinel) on loopback `port` answers PING. */
export async function waitForRedis(port: number): Promise<void> {
  await waitFor(`redis on port ${port} to answer`, async () => {
    const r = new Redis(port, { lazyConnect: true, retryStrategy: () => null });
    r.on('error', () => undefined);
    try {
      await r.connect();
      return (await r.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      r.disconnect();
    }
  });
}

export interface Studyhook {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * `studyhook <role> --config <file>` as a real child process (test/helpers/studyhook-cli.ts);
 * `env` is added to the child's environment.
 */
export function spawnStudyhook(
  role: 'api' | 'worker' | 'start',
  config: string,
  env: Record<string, string> = {},
): Studyhook {
  const proc = spawn(process.execPath, [...studyhookArgs(), role, '--config', config], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, STUDYHOOK_CONFIG: '', ...env },
  });
  let out = '';
  proc.stdout!.on('data', (c) => {
    out += String(c);
  });
  proc.stderr!.on('data', (c) => {
    out += String(c);
  });
  const exited = new Promise<number | null>((resolve) =>
    proc.once('exit', (code) => resolve(code)),
  );
  return { proc, output: () => out, exited };
}

export async function stop(proc: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const gone = new Promise((r) => proc.once('exit', r));
  proc.kill(signal);
  await gone;
}
