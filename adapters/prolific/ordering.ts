import type { Cluster, Redis } from 'ioredis';
import type { StudyhookEvent } from '../../src/event/build-event.js';
import { timestampMs } from './verify.js';

/** Options of {@link isStale}. */
export interface StalenessOptions {
  /** Key prefix (use your sink's own, e.g. the gateway's `redis.prefix`). Default `studyhook`. */
  prefix?: string;
  /** How long a high-water mark is kept. Default 7 days: Prolific retries for at most 24 hours. */
  ttlSeconds?: number;
}

// Raises the mark unless it is already newer; answers 1 when the given time is older than the mark.
const RAISE = `
local cur = redis.call('GET', KEYS[1])
if cur and tonumber(cur) > tonumber(ARGV[1]) then return 1 end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
return 0`;

/** The Redis key of an event's high-water mark: one per namespace, event type and resource. */
export function highWaterKey(event: StudyhookEvent, prefix = 'studyhook'): string {
  return `${prefix}:prolific:hwm:${event.namespace}:${event.type}:${event.subject ?? ''}`;
}

/** When Prolific sent the event (`X-Timestamp`, else the signing timestamp), in ms; undefined if unknown. */
export function sentAtMs(event: StudyhookEvent): number | undefined {
  const raw = event['prolifictimestamp'];
  return timestampMs(typeof raw === 'string' ? raw : undefined);
}

/**
 * True when a newer event of the same type for the same resource was already seen (Prolific does not
 * keep order: docs: api-reference/webhooks/handling-event-order-with-x-timestamp). Otherwise records
 * this event's time as the newest, atomically (Lua), so concurrent workers agree. Equal times are
 * not stale (Prolific's timestamps are whole seconds, so two changes in one second cannot be ordered).
 */
export async function isStale(
  event: StudyhookEvent,
  redis: Redis | Cluster,
  opts: StalenessOptions = {},
): Promise<boolean> {
  const at = sentAtMs(event);
  if (at === undefined || event.platform !== 'prolific') return false;
  const stale = await redis.eval(
    RAISE,
    1,
    highWaterKey(event, opts.prefix),
    String(at),
    String(opts.ttlSeconds ?? 7 * 24 * 3600),
  );
  return stale === 1;
}
