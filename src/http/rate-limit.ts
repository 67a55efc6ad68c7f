import { StudyhookError } from '../errors.js';

export interface RateLimitOptions { enabled: boolean; perSecond: number; burst: number }

/** Takes one token for `key` or throws SH_RATE_LIMITED (429 + Retry-After). */
export type RateLimiter = (key: string) => void;

/**
 * An in-memory token bucket per client key (IP). Per process: behind N API processes the effective
 * limit is N times higher, which is fine for its purpose (one runaway browser or script).
 */
export function createRateLimiter(opts: RateLimitOptions, now: () => number = Date.now): RateLimiter {
  if (!opts.enabled) return () => undefined;
  const buckets = new Map<string, { tokens: number; at: number }>();
  let sweptAt = now();
  return (key) => {
    const t = now();
    // why: forget idle clients so a study with thousands of browsers does not grow the map forever.
    if (t - sweptAt > 60_000) {
      for (const [k, b] of buckets) if (b.tokens + ((t - b.at) / 1000) * opts.perSecond >= opts.burst) buckets.delete(k);
      sweptAt = t;
    }
    const b = buckets.get(key) ?? { tokens: opts.burst, at: t };
    b.tokens = Math.min(opts.burst, b.tokens + ((t - b.at) / 1000) * opts.perSecond);
    b.at = t;
    buckets.set(key, b);
    if (b.tokens < 1) {
      const wait = Math.max(1, Math.ceil((1 - b.tokens) / opts.perSecond));
      throw new StudyhookError('SH_RATE_LIMITED', undefined, { headers: { 'Retry-After': String(wait) } });
    }
    b.tokens -= 1;
  };
}
