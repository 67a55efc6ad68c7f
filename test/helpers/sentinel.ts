import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { waitFor } from './gateway.js';
import { freePort, stop, waitForRedis } from './processes.js';

/** The name the sentinels monitor the primary under. */
export const SENTINEL_NAME = 'studyhook-primary';

/** A redis-server (or, with `--sentinel`, a sentinel) on loopback, once it answers PING. */
async function redisServer(port: number, args: string[]): Promise<ChildProcess> {
  const proc = spawn('redis-server', args, { stdio: 'ignore' });
  await waitForRedis(port);
  return proc;
}

/** What a sentinel says of the primary: its port and how many replicas it knows of. */
export async function sentinelView(port: number): Promise<{ primary: number; replicas: number }> {
  const s = new Redis(port);
  try {
    const addr = (await s.call('SENTINEL', 'get-master-addr-by-name', SENTINEL_NAME)) as string[];
    const replicas = (await s.call('SENTINEL', 'replicas', SENTINEL_NAME)) as unknown[];
    return { primary: Number(addr[1]), replicas: replicas.length };
  } finally {
    s.disconnect();
  }
}

export interface SentinelSet {
  primary: { port: number; proc: ChildProcess };
  replica: { port: number; proc: ChildProcess };
  sentinels: { port: number; proc: ChildProcess }[];
  /** The redis+sentinel:// URL naming every sentinel, in order. */
  url: string;
}

/**
 * A primary, its replica (in sync when this resolves) and `count` sentinels that fail the primary
 * over to the replica once `quorum` of them see it gone for a second, all on loopback under `dir`.
 */
export async function startSentinelSet(
  dir: string,
  count: number,
  quorum: number,
): Promise<SentinelSet> {
  const node = async (name: string, extra: string[]) => {
    const port = await freePort();
    await mkdir(join(dir, name));
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir'];
    return { port, proc: await redisServer(port, [...args, join(dir, name), ...extra]) };
  };
  // why no delay: the replica's first copy starts at once instead of after 5 s (Redis's default).
  const primary = await node('primary', ['--appendonly', 'yes', '--repl-diskless-sync-delay', '0']);
  const replica = await node('replica', ['--replicaof', '127.0.0.1', String(primary.port)]);
  const sentinels = [];
  for (let i = 0; i < count; i++) {
    const port = await freePort();
    const conf = join(dir, `sentinel-${i}.conf`);
    await writeFile(
      conf,
      [
        `port ${port}`,
        'bind 127.0.0.1',
        `sentinel monitor ${SENTINEL_NAME} 127.0.0.1 ${primary.port} ${quorum}`,
        `sentinel down-after-milliseconds ${SENTINEL_NAME} 1000`,
        `sentinel failover-timeout ${SENTINEL_NAME} 5000`,
        '',
      ].join('\n'),
    );
    sentinels.push({ port, proc: await redisServer(port, [conf, '--sentinel']) });
  }
  // A failover needs a replica the sentinels know of; a replica still copying is waited for by
  // publishes too (test/redis-replica-sync.test.ts), but slowly, so the set starts in sync.
  for (const s of sentinels)
    await waitFor('the sentinel to know the replica', async () => {
      return (await sentinelView(s.port)).replicas === 1;
    });
  await waitFor('the replica to be in sync', async () => {
    const r = new Redis(primary.port);
    const info = await r.info('replication').finally(() => r.disconnect());
    return /^slave0:.*state=online/m.test(info);
  });
  const hosts = sentinels.map((s) => `127.0.0.1:${s.port}`).join(',');
  return { primary, replica, sentinels, url: `redis+sentinel://${hosts}/${SENTINEL_NAME}` };
}

/** Kills every process of the set (none when it never started). */
export async function stopSentinelSet(set: SentinelSet | undefined): Promise<void> {
  if (set)
    for (const p of [set.primary, set.replica, ...set.sentinels]) await stop(p.proc, 'SIGKILL');
}
