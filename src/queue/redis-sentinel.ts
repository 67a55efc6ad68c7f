import { Redis, type RedisOptions } from 'ioredis';
import { parseSentinelUrl } from './redis-url.js';

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
  });
  redis.on('error', () => undefined);
  return redis;
}
