import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { Queue } from 'bullmq';
import { StudyhookError } from '../errors.js';
import { withTimeout } from '../util/timeout.js';
import { connectSentinel } from './redis-sentinel.js';
import { isClusterUrl, isSentinelUrl, maskRedisUrl, parseClusterUrl } from './redis-url.js';

export { Cluster, Redis };
/** A connection to one Redis server or to a Redis Cluster: what every part of studyhook talks to. */
export type RedisClient = Redis | Cluster;

/**
 * What a connection is for. Producers (the API's publisher, the deployment lease) and short-lived
 * handles (counts, dashboard, replay) fail fast, with no offline queue, so that a request is answered
 * 503 or spooled instead of hanging; workers wait for Redis forever (BullMQ needs maxRetriesPerRequest null).
 */
export type RedisRole = 'producer' | 'worker' | 'handle';

const retryStrategy = (n: number): number => Math.min(200 * n, 2000);

function roleOptions(role: RedisRole): RedisOptions {
  if (role === 'worker') return { maxRetriesPerRequest: null, retryStrategy };
  if (role === 'producer')
    return {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      connectTimeout: 2000,
      retryStrategy,
    };
  return { enableOfflineQueue: false, retryStrategy };
}

/**
 * A connection for one role to the server or cluster `url` names (redis://, rediss://,
 * redis+cluster://host:port,host:port, or the primary that redis+sentinel://host:port,host:port/name
 * finds). Errors are swallowed here: ioredis reconnects by itself and
 * every caller reports an outage where it matters (per request, per job).
 */
export function connectRedis(url: string, role: RedisRole, extra: RedisOptions = {}): RedisClient {
  if (isSentinelUrl(url)) return connectSentinel(url, { ...roleOptions(role), ...extra });
  if (!isClusterUrl(url)) {
    const redis = new Redis(url, { ...roleOptions(role), ...extra });
    redis.on('error', () => undefined);
    return redis;
  }
  const target = parseClusterUrl(url);
  const { enableOfflineQueue, ...perNode } = { ...roleOptions(role), ...extra };
  const options: ClusterOptions = {
    redisOptions: {
      ...perNode,
      ...(target.username !== undefined && { username: target.username }),
      ...(target.password !== undefined && { password: target.password }),
      ...(target.tls && { tls: {} }),
    },
    enableOfflineQueue: enableOfflineQueue ?? true,
    clusterRetryStrategy: retryStrategy,
    // why: during a failover a slot answers CLUSTERDOWN or TRYAGAIN, or its node is gone, until a
    // replica is promoted (cluster-node-timeout); retrying within the publish timeout rides it out.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 100,
    // why: ioredis learns of a promoted replica only from a MOVED reply or a refresh; commands to a
    // dead primary fail before they can be MOVED (no offline queue), so without a periodic refresh a
    // publisher never found the new primary (the chaos test's spool never drained).
    slotsRefreshInterval: 1000,
    // why: managed clusters with TLS (ElastiCache) must keep the host names for the certificate check.
    ...(target.tls && {
      dnsLookup: (address: string, done: (err: Error | null, address: string) => void) =>
        done(null, address),
    }),
    ...(extra.lazyConnect !== undefined && { lazyConnect: extra.lazyConnect }),
  };
  const cluster = new Cluster(target.nodes, options);
  cluster.on('error', () => undefined);
  return cluster;
}

/**
 * A Redis connection for one role, with the commands of one event-loop turn batched into one write
 * (per node on a cluster).
 */
export function createRedis(url: string, role: 'producer' | 'worker'): RedisClient {
  // why: no auto-pipelining. Each auto-pipeline is a new ioredis Pipeline, which copies every
  // script BullMQ defines (about 50, twice) onto itself; that cost more than the writes it saved
  // (the figures are in the commit that turned it off). batchWrites batches instead.
  const redis = connectRedis(url, role);
  if (redis instanceof Redis) return batchWrites(redis);
  // why: a cluster sends each command through the connection of the node that serves its slot.
  redis.on('+node', (node: Redis) => {
    batchWrites(node);
  });
  return redis;
}

/**
 * Makes the commands sent in one event-loop turn go out to Redis in one write: the socket is
 * corked at the first and uncorked in setImmediate. why: a write per command is a syscall here and
 * a read and wake-up in Redis, which shares the cores. No object per batch, unlike auto-pipelining.
 * The A/B with and without is in the commits and the README's performance section.
 */
function batchWrites(redis: Redis): Redis {
  const send = redis.sendCommand.bind(redis);
  let corked = false;
  redis.sendCommand = (command, stream) => {
    if (!corked && !stream && redis.status === 'ready') {
      const socket = redis.stream;
      corked = true;
      socket.cork();
      setImmediate(() => {
        corked = false;
        socket.uncork();
      });
    }
    return send(command, stream);
  };
  return redis;
}

/** The URL with any password masked, for logs and messages. */
export function safeRedisUrl(url: string): string {
  return maskRedisUrl(url);
}

/** Why Redis cannot be reached, or undefined when it answers PING (within `timeoutMs`); a cluster must also serve every slot. */
export async function redisProblem(url: string, timeoutMs = 3000): Promise<Error | undefined> {
  const redis = connectRedis(url, 'handle', {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  if (redis instanceof Cluster) redis.options.clusterRetryStrategy = () => null;
  else if (isSentinelUrl(url)) redis.options.sentinelRetryStrategy = () => null;
  try {
    await withTimeout(
      (async () => {
        await redis.connect();
        await redis.ping();
        if (redis instanceof Cluster) {
          const state = /cluster_state:(\w+)/.exec(String(await redis.cluster('INFO')))?.[1];
          if (state !== 'ok')
            throw new Error(`the cluster is ${state ?? 'in an unknown state'} (CLUSTER INFO)`);
        }
      })(),
      timeoutMs,
      () => {
        throw new Error(`no answer in ${timeoutMs} ms`);
      },
    );
    return undefined;
  } catch (err) {
    return err as Error;
  } finally {
    redis.disconnect();
  }
}

/** The one-line error, with the fix, for a command that cannot work without Redis. */
export function redisUnreachable(url: string, cause: Error): StudyhookError {
  return new StudyhookError(
    'SH_REDIS_UNREACHABLE',
    `Cannot reach Redis at ${safeRedisUrl(url)} (${cause.message}).\n` +
      '  Fix: start one (`redis-server --appendonly yes`, or `docker compose up redis`),\n' +
      '  or point studyhook at yours with REDIS_URL=redis://host:6379 (or redis.url in the config).',
    { cause },
  );
}

/** Start-up check for commands that need Redis (replay, republish): a clear error, with the fix, when it is not there. */
export async function assertRedisReachable(url: string, timeoutMs = 3000): Promise<void> {
  const problem = await redisProblem(url, timeoutMs);
  if (problem) throw redisUnreachable(url, problem);
}

/** True when `prefix` holds a Redis Cluster hash tag (a non-empty `{...}`). */
export function hasHashTag(prefix: string): boolean {
  return /\{[^}]+\}/.test(prefix);
}

/**
 * The queue of one sink. No ':' (BullMQ forbids it). BullMQ's keys are `<prefix>:<name>:...` and
 * one queue's scripts touch several of them, so they must share a slot: under a tagged prefix they
 * do already (every sink in one slot, the layout of earlier versions); under an untagged one the
 * name carries the tag, so that each sink's queue hashes to a slot of its own and a cluster spreads
 * the sinks over its nodes. Without `prefix`: the name under a tagged prefix.
 */
export function sinkQueueName(sink: string, prefix?: string): string {
  return prefix === undefined || hasHashTag(prefix) ? `sink-${sink}` : `{sink-${sink}}`;
}

/**
 * The prefix of studyhook's own keys that are read or written together (the deployment lease and
 * the processes it lists): the prefix itself when tagged, else the prefix as a tag, so that a MULTI
 * over them stays in one slot.
 */
export function metaPrefix(prefix: string): string {
  return hasHashTag(prefix) ? prefix : `{${prefix}}`;
}

/**
 * A queue handle (counts, dashboard, replay) with a connection of its own that fails fast like a
 * producer's, to one server or a cluster; closing the queue closes the connection. Sink workers use
 * createRedis instead, for batched writes.
 */
export function openQueue<T = unknown>(sink: string, url: string, prefix: string): Queue<T> {
  const connection = connectRedis(url, 'handle');
  const queue = new Queue<T>(sinkQueueName(sink, prefix), { connection, prefix });
  queue.on('error', () => undefined);
  // why: BullMQ leaves open a connection it was handed; this one belongs to the queue alone.
  const close = queue.close.bind(queue);
  queue.close = async () => {
    try {
      await close();
    } finally {
      connection.disconnect();
    }
  };
  return queue;
}
