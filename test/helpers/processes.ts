import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { waitFor } from './gateway.js';
import { studyhookArgs } from './studyhook-cli.js';

const root = new URL('../../', import.meta.url).pathname;

export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
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
  await waitFor('redis-server to answer', async () => {
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
  return proc;
}

export interface Studyhook {
  proc: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** `studyhook <role> --config <file>` as a real child process (test/helpers/studyhook-cli.ts). */
export function spawnStudyhook(role: 'api' | 'worker' | 'start', config: string): Studyhook {
  const proc = spawn(process.execPath, [...studyhookArgs(), role, '--config', config], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, STUDYHOOK_CONFIG: '' },
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
