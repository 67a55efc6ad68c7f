import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { StudyhookError } from '../errors.js';

/** How long a deployment's or process's lease lives without a heartbeat, and how often it is renewed. */
export const LEASE_MS = 30_000;
const BEAT_MS = 10_000;

/** What each process announces about itself (read by `studyhook status` and by a second deployment). */
export interface ProcessInfo { deployment: string; dataDir: string; host: string; pid: number; role: string; startedAt: string }

/**
 * This deployment's id: `redis.deploymentId` when set, else a random id kept in
 * `<dataDir>/deployment-id` (made on first start), so every process sharing the data dir shares it.
 */
export async function deploymentId(dataDir: string, configured: string | undefined, dirMode: number): Promise<string> {
  if (configured) return configured;
  const file = join(dataDir, 'deployment-id');
  const existing = (await readFile(file, 'utf8').catch(() => '')).trim();
  if (existing) return existing;
  await mkdir(dataDir, { recursive: true, mode: dirMode });
  const id = randomUUID();
  // why: 'wx' so that of two processes starting at once, one id wins and both read it back.
  await writeFile(file, `${id}\n`, { flag: 'wx' }).catch(() => undefined);
  return (await readFile(file, 'utf8')).trim();
}

export interface DeploymentLease {
  /** Renews at once and then every 10 s; a live other deployment under the prefix throws / calls onConflict. */
  start(onConflict: (err: StudyhookError) => void): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Two deployments with the same `redis.prefix` on one Redis take each other's events (each
 * worker delivers the other's jobs to its own sinks). Each deployment therefore holds a lease
 * `<prefix>:deployment:<id>` (expiring, so a stopped deployment frees the prefix by itself, with
 * no clock comparison between hosts) listed in `<prefix>:deployments`; a process that finds
 * another deployment's live lease refuses to run, naming the other's data dir and host and the fix.
 */
export function createDeploymentLease(redisUrl: string, prefix: string, me: ProcessInfo): DeploymentLease {
  const redis = new Redis(redisUrl, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy: (n) => Math.min(200 * n, 2000) });
  redis.on('error', () => undefined);
  const key = (id: string): string => `${prefix}:deployment:${id}`;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function conflict(): Promise<StudyhookError | undefined> {
    for (const id of await redis.smembers(`${prefix}:deployments`)) {
      if (id === me.deployment) continue;
      const other = await redis.get(key(id));
      if (!other) { await redis.srem(`${prefix}:deployments`, id); continue; }
      const o = JSON.parse(other) as ProcessInfo;
      return new StudyhookError('SH_DEPLOYMENT_CONFLICT',
        `Another studyhook deployment uses Redis prefix '${prefix}' (data dir ${o.dataDir} on host ${o.host}, deployment ${id}). `
        + 'Two deployments on one prefix take each other\'s events. Give each deployment its own redis.prefix; '
        + 'if both are one deployment on several hosts, give them the same redis.deploymentId.');
    }
    return undefined;
  }

  async function beat(): Promise<StudyhookError | undefined> {
    if (redis.status === 'wait') await redis.connect();
    const found = await conflict();
    if (found) return found;
    const info = JSON.stringify(me);
    await redis.multi()
      .set(key(me.deployment), info, 'PX', LEASE_MS).sadd(`${prefix}:deployments`, me.deployment)
      .set(`${prefix}:process:${me.host}-${me.pid}`, info, 'PX', LEASE_MS)
      .exec();
    return undefined;
  }

  /** Drops this process's entry, and the deployment's lease when no other process of it is left. */
  async function release(): Promise<void> {
    if (redis.status !== 'ready') return;
    await redis.del(`${prefix}:process:${me.host}-${me.pid}`);
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:process:*`, 'COUNT', 200);
      cursor = next;
      for (const k of keys) {
        const info = await redis.get(k);
        if (info && (JSON.parse(info) as ProcessInfo).deployment === me.deployment) return;
      }
    } while (cursor !== '0');
    await redis.multi().del(key(me.deployment)).srem(`${prefix}:deployments`, me.deployment).exec();
  }

  return {
    async start(onConflict) {
      // why: a Redis outage at start must not stop the API (its spool bridges it); the check runs once Redis answers.
      const first = await beat().catch(() => undefined);
      if (first) throw first;
      const loop = (): void => {
        timer = setTimeout(() => {
          void beat().then((err) => { if (err) onConflict(err); }, () => undefined).finally(() => { if (!stopped) loop(); });
        }, BEAT_MS);
        timer.unref();
      };
      loop();
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await release().catch(() => undefined);
      redis.disconnect();
    },
  };
}

/** This process's announcement. */
export function processInfo(deployment: string, dataDir: string, role: string): ProcessInfo {
  return { deployment, dataDir, host: hostname(), pid: process.pid, role, startedAt: new Date().toISOString() };
}
