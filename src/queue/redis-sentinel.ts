import { Redis, type RedisOptions } from 'ioredis';
import { parseSentinelUrl } from './redis-url.js';

/** How long a sentinel may take to name the primary before the next sentinel is asked. */
const SENTINEL_COMMAND_TIMEOUT_MS = 2000;
/** Pause before a connection that ioredis ended on its own is opened again. */
const REOPEN_MS = 500;

/**
 * A connection to the primary that the sentinels of a redis+sentinel:// URL monitor under its
 * name; after a failover, to the replica they promoted. To everything above it, one server.
 */
export function connectSentinel(url: string, options: RedisOptions): Redis {
  const t = parseSentinelUrl(url);
  const redis = new Redis({
    ...options,
    sentinels: t.nodes,
    name: t.name,
    ...(t.username !== undefined && { username: t.username }),
    ...(t.password !== undefined && { password: t.password }),
    ...(t.tls && { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true }),
    // why: a promoted replica is learnt from the sentinels' +switch-master at once, not only when
    // the old primary's connection fails.
    failoverDetector: true,
    // why: ioredis sets none, and a sentinel that stops answering (its host paused or cut off)
    // held every reconnect on its question forever: the other sentinels were never asked.
    sentinelCommandTimeout: SENTINEL_COMMAND_TIMEOUT_MS,
  });
  redis.on('error', () => undefined);
  return keepOpen(redis);
}

/**
 * Opens again a connection that ioredis ended by itself, until it is closed on purpose; so do its
 * duplicates (BullMQ's blocking connections). why: when the failover detector's +switch-master
 * arrives while a reconnect is asking a sentinel for the primary, ioredis (5.x) fails that connect
 * with "Connection is closed" and ends the connection for good (status `end`, no retry). A gateway
 * then spooled every request until its spool was full and never delivered again, although the
 * promoted replica answered (seen in a test run: 22 of 22 acknowledged events undelivered after
 * 90 s). A connection whose retry strategy gives up (a one-off probe) is left ended.
 */
function keepOpen(redis: Redis): Redis {
  let closed = false;
  const { disconnect, quit, duplicate } = redis;
  redis.disconnect = (reconnect?: boolean) => {
    if (!reconnect) closed = true;
    disconnect.call(redis, reconnect);
  };
  redis.quit = ((...args: Parameters<Redis['quit']>) => {
    closed = true;
    return quit.apply(redis, args);
  }) as Redis['quit'];
  redis.duplicate = (override?: Partial<RedisOptions>) => keepOpen(duplicate.call(redis, override));
  redis.on('end', () => {
    if (closed || typeof redis.options.retryStrategy?.(1) !== 'number') return;
    setTimeout(() => {
      if (!closed && redis.status === 'end') redis.connect().catch(() => undefined);
    }, REOPEN_MS).unref();
  });
  return redis;
}
