/** Thrown when Redis gives no answer in time; a sign of an outage, like a refused connection. */
export class RedisTimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer from Redis in ${ms} ms`);
    this.name = 'RedisTimeoutError';
  }
}

/** Thrown when fewer replicas than `redis.waitReplicas` confirmed a publish in time: its durability is not known. */
export class ReplicaAckError extends Error {
  constructor(wanted: number, got: number, ms: number) {
    super(`${got} of ${wanted} replica(s) confirmed the write within ${ms} ms`);
    this.name = 'ReplicaAckError';
  }
}

// ioredis' own words for "not connected" (to one server, a cluster, or the primary its sentinels name), and socket errors.
const CONNECTION =
  /Connection is closed|Stream isn't writeable|enableOfflineQueue|max retries per request|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|Too many Cluster redirections|Failed to refresh slots cache|None of startup nodes is available|All sentinels are unreachable/i;
// Redis replies that mean "cannot take writes now", not "this write is wrong".
const UNAVAILABLE_REPLY =
  /^(LOADING|BUSY|READONLY|OOM|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|NOREPLICAS|MISCONF|NOAUTH|WRONGPASS|NOPERM)\b/;

/**
 * True when an error from a Redis command means Redis is away or cannot take writes (refused or
 * dropped connection, timeout, loading, read-only replica during failover, out of memory, disk
 * error on its side). Only these may be bridged by the spool or answered 503: anything else (a
 * payload that cannot be serialised, a bug) is about the event itself and must not be retried
 * blindly or spooled, where it would block every later event.
 */
export function isRedisUnavailable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (err instanceof RedisTimeoutError || err instanceof ReplicaAckError) return true;
  if (err.name === 'MaxRetriesPerRequestError' || err.name === 'ClusterAllFailedError') return true;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && CONNECTION.test(code)) return true;
  if (err.name === 'ReplyError') return UNAVAILABLE_REPLY.test(err.message);
  return CONNECTION.test(err.message);
}
