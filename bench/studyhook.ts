import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { adapters } from '../adapters/index.js';
import { sinkQueueName } from '../src/queue/redis.js';
import { platformConfig } from './scenarios.js';
import { freePort, nodeTs, root, sleep, start, waitForPort, type Proc } from './procs.js';

export const SINK = 'bench-noop';
/** The bench's admin token, so the soak can read the API's /metrics. */
export const ADMIN_TOKEN = 'bench-admin-token';
export const available = (platform: string): boolean =>
  adapters.some((a) => a.platform === platform);

/** The CLI as users run it: the built dist when present, else the TypeScript source through tsx. */
export function cliArgs(): string[] {
  const dist = join(root, 'dist/src/cli.js');
  return existsSync(dist) ? [dist] : nodeTs('src/cli.ts');
}

/** Writes a config with every available platform, one no-op sink and no archive sink. */
export async function writeConfig(work: string, redisUrl: string, prefix: string): Promise<string> {
  const dataDir = join(work, 'data');
  await mkdir(dataDir, { recursive: true });
  const platforms = Object.fromEntries(
    Object.entries(platformConfig).filter(([p]) => available(p)),
  );
  const file = join(work, 'studyhook.yml');
  await writeFile(
    file,
    stringify({
      dataDir,
      redis: { url: redisUrl, prefix },
      server: { host: '127.0.0.1', port: 0, rateLimit: { enabled: false } }, // why: one load-generator IP would hit the per-browser rate limit
      admin: { token: ADMIN_TOKEN },
      archive: false,
      platforms,
      sinks: [{ name: SINK, module: join(root, 'bench/noop-sink.js') }],
    }),
  );
  return file;
}

export interface Cluster {
  ports: number[];
  apis: Proc[];
  workers: Proc[];
  stop(): Promise<void>;
}

/** N API processes (each on its own port) and M worker processes against one Redis. */
export async function startStudyhook(
  config: string,
  opts: { apis: number; workers: number; env: Record<string, string>; apiFlags?: string[] },
): Promise<Cluster> {
  const ports: number[] = [];
  const apis: Proc[] = [];
  for (let i = 0; i < opts.apis; i++) {
    const port = await freePort();
    ports.push(port);
    apis.push(
      start(
        [...cliArgs(), 'api', '--config', config],
        { ...opts.env, PORT: String(port) },
        opts.apiFlags ?? [],
      ),
    );
  }
  const workers = Array.from({ length: opts.workers }, () =>
    start([...cliArgs(), 'worker', '--config', config], opts.env),
  );
  for (const [i, port] of ports.entries()) await waitForPort(port, apis[i]!);
  await sleep(500); // workers connect to Redis
  return {
    ports,
    apis,
    workers,
    stop: async () => {
      await Promise.all([...apis, ...workers].map((p) => p.stop()));
    },
  };
}

function connection(url: string): { host: string; port: number } {
  const u = new URL(url);
  return { host: u.hostname, port: Number(u.port || 6379) };
}

/** Waits until the workers have delivered everything (so one repetition's backlog never slows the next). */
export async function drain(
  redisUrl: string,
  prefix: string,
  timeoutMs = 120000,
  sinks: readonly string[] = [SINK],
  pollMs = 200,
): Promise<void> {
  // why: the sink's queue as the gateway names it (`sink-<name>`); a wrong name would count an empty queue and never wait.
  const qs = sinks.map(
    (s) => new Queue(sinkQueueName(s), { connection: connection(redisUrl), prefix }),
  );
  try {
    const end = Date.now() + timeoutMs;
    while (Date.now() < end) {
      const counts = await Promise.all(
        qs.map((q) =>
          q.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children'),
        ),
      );
      if (counts.every((c) => Object.values(c).every((n) => n === 0))) return;
      await sleep(pollMs);
    }
    throw new Error('queue did not drain in time');
  } finally {
    await Promise.all(qs.map((q) => q.close()));
  }
}

/** Empties a skeleton's queue (skeletons have no worker). */
export async function obliterate(redisUrl: string, prefix: string, name: string): Promise<void> {
  const q = new Queue(name, { connection: connection(redisUrl), prefix });
  try {
    await q.obliterate({ force: true });
  } finally {
    await q.close();
  }
}

/** The pid of the Redis server when it runs on this machine (its CPU time is then readable), else undefined. */
export async function localRedisPid(redisUrl: string): Promise<number | undefined> {
  const r = new Redis(redisUrl, { lazyConnect: true, maxRetriesPerRequest: 0 });
  try {
    await r.connect();
    const pid = Number(/process_id:(\d+)/.exec(await r.info('server'))?.[1]);
    return readFileSync(`/proc/${pid}/comm`, 'utf8').startsWith('redis') ? pid : undefined;
  } catch {
    return undefined;
  } finally {
    r.disconnect();
  }
}
