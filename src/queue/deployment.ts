import { randomUUID } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StudyhookError } from '../errors.js';
import { connectRedis, metaPrefix } from './redis.js';

/** How long a deployment's or process's lease lives without a heartbeat, and how often it is renewed. */
export const LEASE_MS = 30_000;
const BEAT_MS = 10_000;

/** What each process announces about itself (read by `studyhook status` and by a second deployment). */
export interface ProcessInfo {
  deployment: string;
  dataDir: string;
  host: string;
  pid: number;
  role: string;
  startedAt: string;
}

/**
 * This deployment's id: `redis.deploymentId` when set, else a random id kept in
 * `<dataDir>/deployment-id` (made on first start), so every process sharing the data dir shares it.
 */
export async function deploymentId(
  dataDir: string,
  configured: string | undefined,
  dirMode: number,
): Promise<string> {
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
 * `<meta>:deployment:<id>` (expiring, so a stopped deployment frees the prefix by itself, with
 * no clock comparison between hosts) listed in `<meta>:deployments`; a process that finds
 * another deployment's live lease refuses to run, naming the other's data dir and host and the fix.
 * `<meta>` is the prefix, as a hash tag when it has none (metaPrefix), so that these keys share
 * one cluster slot and one MULTI writes them; the processes are listed in a set, not found by SCAN,
 * which a cluster would have to run on every node.
 */
export function createDeploymentLease(
  redisUrl: string,
  prefix: string,
  me: ProcessInfo,
): DeploymentLease {
  const redis = connectRedis(redisUrl, 'producer', { lazyConnect: true, connectTimeout: 10000 });
  const meta = metaPrefix(prefix);
  const key = (id: string): string => `${meta}:deployment:${id}`;
  const deployments = `${meta}:deployments`;
  const processes = `${meta}:processes`;
  const self = `${me.host}-${me.pid}`;
  const processKey = (name: string): string => `${meta}:process:${name}`;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function conflict(): Promise<StudyhookError | undefined> {
    for (const id of await redis.smembers(deployments)) {
      if (id === me.deployment) continue;
      const other = await redis.get(key(id));
      if (!other) {
        await redis.srem(deployments, id);
        continue;
      }
      const o = JSON.parse(other) as ProcessInfo;
      return new StudyhookError(
        'SH_DEPLOYMENT_CONFLICT',
        `Another studyhook deployment uses Redis prefix '${prefix}' (data dir ${o.dataDir} on host ${o.host}, deployment ${id}). ` +
          "Two deployments on one prefix take each other's events. Give each deployment its own redis.prefix; " +
          'if both are one deployment on several hosts, give them the same redis.deploymentId.',
      );
    }
    return undefined;
  }

  async function beat(): Promise<StudyhookError | undefined> {
    if (redis.status === 'wait') await redis.connect();
    const found = await conflict();
    if (found) return found;
    const info = JSON.stringify(me);
    await redis
      .multi()
      .set(key(me.deployment), info, 'PX', LEASE_MS)
      .sadd(deployments, me.deployment)
      .set(processKey(self), info, 'PX', LEASE_MS)
      .sadd(processes, self)
      .exec();
    return undefined;
  }

  /** Drops this process's entry, and the deployment's lease when no other process of it is left. */
  async function release(): Promise<void> {
    if (redis.status !== 'ready') return;
    await redis.multi().del(processKey(self)).srem(processes, self).exec();
    for (const name of await redis.smembers(processes)) {
      const info = await redis.get(processKey(name));
      // why: a process that died without releasing is dropped from the set once its entry expired.
      if (!info) {
        await redis.srem(processes, name);
        continue;
      }
      if ((JSON.parse(info) as ProcessInfo).deployment === me.deployment) return;
    }
    await redis.multi().del(key(me.deployment)).srem(deployments, me.deployment).exec();
  }

  return {
    async start(onConflict) {
      // why: a Redis outage at start must not stop the API (its spool bridges it); the check runs once Redis answers.
      const first = await beat().catch(() => undefined);
      if (first) throw first;
      const loop = (): void => {
        timer = setTimeout(() => {
          void beat()
            .then(
              (err) => {
                if (err) onConflict(err);
              },
              () => undefined,
            )
            .finally(() => {
              if (!stopped) loop();
            });
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
  return {
    deployment,
    dataDir,
    host: hostname(),
    pid: process.pid,
    role,
    startedAt: new Date().toISOString(),
  };
}
