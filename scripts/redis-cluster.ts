// A local Redis Cluster for tests, `.ci/run` and the bench: `masters` primaries, each with
// `replicas` replicas, on free loopback ports, made with `redis-cli --cluster create`. Run alone:
// `npx tsx scripts/redis-cluster.ts --dir /tmp/cluster` prints its redis+cluster:// URL and runs until killed.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';

const run = promisify(execFile);

export interface ClusterNode {
  port: number;
  proc: ChildProcess;
}
export interface LocalCluster {
  /** redis+cluster://127.0.0.1:<port>,… (every node a seed). */
  url: string;
  nodes: ClusterNode[];
  /** The nodes that are primaries now (they change after a failover). */
  masters(): Promise<ClusterNode[]>;
  /** The node serving `slot` now. */
  nodeOfSlot(slot: number): Promise<ClusterNode>;
  /** Resolves once every slot is served again and every live node says the cluster is ok. */
  waitHealthy(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function until(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function ask<T>(port: number, fn: (r: Redis) => Promise<T>): Promise<T> {
  const r = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 0,
    connectTimeout: 1000,
  });
  r.on('error', () => undefined);
  try {
    await r.connect();
    return await fn(r);
  } finally {
    r.disconnect();
  }
}

/**
 * Starts the cluster. `nodeTimeoutMs` is cluster-node-timeout: how long a primary may be silent
 * before its replica is promoted. AOF with fsync on every write, as studyhook's compose file runs Redis.
 */
export async function startRedisCluster(opts: {
  dir: string;
  masters?: number;
  replicas?: number;
  nodeTimeoutMs?: number;
}): Promise<LocalCluster> {
  const masters = opts.masters ?? 3;
  const replicas = opts.replicas ?? 1;
  const nodes: ClusterNode[] = [];
  for (let i = 0; i < masters * (1 + replicas); i++) {
    const port = await freePort();
    const dir = join(opts.dir, String(port));
    await mkdir(dir, { recursive: true });
    const proc = spawn(
      'redis-server',
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        dir,
        '--cluster-enabled',
        'yes',
        '--cluster-config-file',
        'nodes.conf',
        '--cluster-node-timeout',
        String(opts.nodeTimeoutMs ?? 1000),
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
        '--maxmemory-policy',
        'noeviction',
        '--repl-diskless-sync-delay',
        '0',
      ],
      { stdio: 'ignore' },
    );
    nodes.push({ port, proc });
  }
  for (const n of nodes)
    await until(
      `redis-server on ${n.port}`,
      () => ask(n.port, async (r) => (await r.ping()) === 'PONG'),
      10000,
    );
  await run('redis-cli', [
    '--cluster',
    'create',
    ...nodes.map((n) => `127.0.0.1:${n.port}`),
    '--cluster-replicas',
    String(replicas),
    '--cluster-yes',
  ]);
  const byPort = (port: number): ClusterNode => nodes.find((n) => n.port === port)!;
  const live = (): ClusterNode[] =>
    nodes.filter((n) => n.proc.exitCode === null && n.proc.signalCode === null);
  const slots = async (): Promise<[number, number, [string, number]][]> => {
    for (const n of live()) {
      try {
        return await ask(
          n.port,
          async (r) =>
            (await r.cluster('SLOTS')) as unknown as [number, number, [string, number]][],
        );
      } catch {
        /* next */
      }
    }
    throw new Error('no node answers');
  };
  const cluster: LocalCluster = {
    url: `redis+cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`,
    nodes,
    async masters() {
      return [...new Set((await slots()).map((s) => s[2][1]))].map(byPort);
    },
    async nodeOfSlot(slot) {
      const s = (await slots()).find(([a, b]) => slot >= a && slot <= b);
      if (!s) throw new Error(`slot ${slot} is not served`);
      return byPort(s[2][1]);
    },
    async waitHealthy(timeoutMs = 30000) {
      await until(
        'the cluster to be ok',
        async () => {
          const states = await Promise.all(
            live().map((n) =>
              ask(n.port, async (r) => /cluster_state:ok/.test(String(await r.cluster('INFO')))),
            ),
          );
          const served = (await slots()).reduce((sum, [a, b]) => sum + (b - a + 1), 0);
          const masters = await this.masters();
          // why: a replica counts once it holds its primary's data (state=online), not when it connects.
          const synced = await Promise.all(
            masters.map((m) =>
              ask(m.port, async (r) => {
                const info = String(await r.info('replication'));
                return (
                  (info.match(/^slave\d+:/gm)?.length ?? 0) ===
                  (info.match(/^slave\d+:.*state=online/gm)?.length ?? 0)
                );
              }),
            ),
          );
          return (
            states.every(Boolean) &&
            served === 16384 &&
            masters.every((m) => live().includes(m)) &&
            synced.every(Boolean)
          );
        },
        timeoutMs,
      );
    },
    async stop() {
      await Promise.all(
        nodes.map(
          (n) =>
            new Promise<void>((resolve) => {
              if (n.proc.exitCode !== null || n.proc.signalCode !== null) {
                resolve();
                return;
              }
              n.proc.once('exit', () => resolve());
              n.proc.kill('SIGKILL');
            }),
        ),
      );
    },
  };
  await cluster.waitHealthy();
  return cluster;
}

if (process.argv[1]?.endsWith('scripts/redis-cluster.ts')) {
  const { values } = parseArgs({
    options: { dir: { type: 'string', default: '/tmp/studyhook-cluster' } },
  });
  const c = await startRedisCluster({ dir: values.dir! });
  process.stdout.write(`${c.url}\n`);
  const stop = (): void => {
    void c.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
