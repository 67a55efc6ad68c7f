import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { openQueue } from '../../src/queue/redis.js';
import { testPrefix, REDIS_URL } from './gateway.js';
import { freePort } from './processes.js';
import { studyhookArgs } from './studyhook-cli.js';

/** Job states in which a job still has a delivery ahead of it. */
export const PENDING_STATES = [
  'waiting',
  'active',
  'delayed',
  'prioritized',
  'waiting-children',
] as const;

/** A gateway running as `studyhook start` (test/helpers/studyhook-cli.ts) in its own temp working directory. */
export interface GatewayProcess {
  proc: ChildProcess;
  pid: number;
  port: number;
  url: string;
  /** The temp dir holding the run: `cwd/` (the gateway's working dir) and `out/` (what test sinks write). */
  root: string;
  cwd: string;
  dataDir: string;
  outDir: string;
  prefix: string;
  /** stdout and stderr so far (the last 500 kB at least). */
  output(): string;
  /** Request ids of the access log lines (`"msg":"request"`) so far: the requests the gateway has finished handling. */
  requestsDone: Set<string>;
  /** Set once the process has exited. */
  exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  /** Job counts per sink queue, by state. */
  jobCounts(): Promise<Record<string, Record<string, number>>>;
  /** Failed jobs of every sink queue: id and reason. */
  failedJobs(): Promise<{ sink: string; id: string; reason: string }[]>;
  /** SIGTERM (then SIGKILL after `graceMs`), then removes its Redis keys and its directories. */
  stop(graceMs?: number): Promise<void>;
}

export interface GatewayProcessOptions {
  /** The config without `server.port`, `redis` and `dataDir`, which are filled in; gets the `out/` dir. */
  config: (outDir: string) => Record<string, unknown>;
  /** Names of the sinks, for job counts (their queues). */
  sinks: readonly string[];
  startTimeoutMs?: number;
}

/**
 * Spawns a real gateway process with cwd in a fresh temp dir, a fresh Redis prefix and port, and
 * waits until /healthz answers. Rejects with the process's output when it exits before that.
 */
export async function spawnGatewayProcess(opts: GatewayProcessOptions): Promise<GatewayProcess> {
  const base = await mkdtemp(join(tmpdir(), 'studyhook-adv-'));
  const cwd = join(base, 'cwd');
  const outDir = join(base, 'out');
  const dataDir = join(cwd, 'data');
  await mkdir(cwd);
  await mkdir(outDir);
  const port = await freePort();
  const prefix = testPrefix('adv');
  const config = { ...opts.config(outDir) };
  const server = {
    ...(config['server'] as Record<string, unknown> | undefined),
    host: '127.0.0.1',
    port,
  };
  await writeFile(
    join(cwd, 'studyhook.yml'),
    stringify({ ...config, server, dataDir: './data', redis: { url: REDIS_URL, prefix } }),
  );
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ['PORT', 'REDIS_URL', 'STUDYHOOK_DATA_DIR', 'LOG_LEVEL', 'STUDYHOOK_CONFIG'])
    delete env[k];
  const proc = spawn(
    process.execPath,
    [...studyhookArgs(), 'start', '--config', join(cwd, 'studyhook.yml')],
    { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let partial = '';
  const requestsDone = new Set<string>();
  const keep = (c: Buffer): void => {
    out += String(c);
    if (out.length > 1e6) out = out.slice(-5e5);
  };
  proc.stdout!.on('data', (c: Buffer) => {
    keep(c);
    const lines = (partial + String(c)).split('\n');
    partial = lines.pop()!;
    for (const l of lines) {
      const id = /"requestId":"([^"]*)".*"msg":"request"/.exec(l)?.[1];
      if (id !== undefined) requestsDone.add(id);
    }
  });
  proc.stderr!.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  const queues = opts.sinks.map((s) => {
    const q = openQueue(s, REDIS_URL, prefix);
    q.on('error', () => undefined);
    return { sink: s, q };
  });
  const g: GatewayProcess = {
    proc,
    pid: proc.pid!,
    port,
    url,
    root: base,
    cwd,
    dataDir,
    outDir,
    prefix,
    exit: undefined,
    requestsDone,
    output: () => out,
    async jobCounts() {
      const entries = await Promise.all(
        queues.map(
          async ({ sink, q }) =>
            [sink, await q.getJobCounts(...PENDING_STATES, 'completed', 'failed')] as const,
        ),
      );
      return Object.fromEntries(entries);
    },
    async failedJobs() {
      const all = await Promise.all(
        queues.map(async ({ sink, q }) =>
          (await q.getFailed(0, 50)).map((j) => ({
            sink,
            id: String(j.id),
            reason: j.failedReason,
          })),
        ),
      );
      return all.flat();
    },
    async stop(graceMs = 10000) {
      if (g.exit === undefined) {
        const gone = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), graceMs);
        await gone;
        clearTimeout(timer);
      }
      process.off('exit', reap);
      await Promise.all(queues.map(({ q }) => q.close().catch(() => undefined)));
      await rm(base, { recursive: true, force: true });
    },
  };
  // why: mocha exits when the tests are done (`exit: true`); a gateway still running then would be orphaned.
  const reap = (): void => {
    proc.kill('SIGKILL');
    rmSync(base, { recursive: true, force: true });
  };
  process.once('exit', reap);
  const exited = new Promise<void>((resolve) =>
    proc.once('exit', (code, signal) => {
      g.exit = { code, signal };
      resolve();
    }),
  );
  const deadline = Date.now() + (opts.startTimeoutMs ?? 30000);
  for (;;) {
    const up = await Promise.race([
      fetch(`${url}/healthz`, { signal: AbortSignal.timeout(1000) }).then(
        (r) => r.ok,
        () => false,
      ),
      exited.then(() => 'exited' as const),
    ]);
    if (up === true) return g;
    if (up === 'exited' || Date.now() > deadline) {
      await g.stop(1000);
      throw new Error(
        `the gateway did not start (${up === 'exited' ? `exit ${JSON.stringify(g.exit)}` : 'timeout'}):\n${out.slice(-4000)}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}
