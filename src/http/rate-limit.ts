import { StudyhookError } from '../errors.js';

export interface RateLimitOptions {
  enabled: boolean;
  perSecond: number;
  burst: number;
}

/** Takes one token for `key` or throws SH_RATE_LIMITED (429 + Retry-After). */
export type RateLimiter = (key: string) => void;

/** In-memory token buckets per client key (IP), refilled at `perSecond` up to `burst`. */
function createBuckets(opts: RateLimitOptions, now: () => number) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  let sweptAt = now();
  /** The bucket of `key`, refilled up to now. */
  function bucket(key: string): { tokens: number; at: number } {
    const t = now();
    // why: forget idle clients so a study with thousands of browsers does not grow the map forever.
    if (t - sweptAt > 60_000) {
      for (const [k, b] of buckets)
        if (b.tokens + ((t - b.at) / 1000) * opts.perSecond >= opts.burst) buckets.delete(k);
      sweptAt = t;
    }
    let b = buckets.get(key);
    if (!b) {
      b = { tokens: opts.burst, at: t };
      buckets.set(key, b);
    }
    b.tokens = Math.min(opts.burst, b.tokens + ((t - b.at) / 1000) * opts.perSecond);
    b.at = t;
    return b;
  }
  function limited(tokens: number, headers: Record<string, string> = {}): StudyhookError {
    const wait = Math.max(1, Math.ceil((1 - tokens) / opts.perSecond));
    return new StudyhookError('SH_RATE_LIMITED', undefined, {
      headers: { 'Retry-After': String(wait), ...headers },
    });
  }
  return {
    bucket,
    limited,
    forget: (key: string) => {
      buckets.delete(key);
    },
  };
}

/**
 * An in-memory token bucket per client key (IP). Per process: behind N API processes the effective
 * limit is N times higher, which is fine for its purpose (one runaway browser or script).
 */
export function createRateLimiter(
  opts: RateLimitOptions,
  now: () => number = Date.now,
): RateLimiter {
  if (!opts.enabled) return () => undefined;
  const { bucket, limited } = createBuckets(opts, now);
  return (key) => {
    const b = bucket(key);
    if (b.tokens < 1) throw limited(b.tokens);
    b.tokens -= 1;
  };
}

/** Per-client limit on failed verifications: see {@link createFailureLimiter}. */
export interface FailureLimiter {
  /** Throws SH_RATE_LIMITED (429) when `key` has no failures left, with `Connection: close` when `close`; takes nothing. */
  check(key: string, close?: boolean): void;
  /** Counts one failed verification of `key`. */
  failed(key: string): void;
  /** A verification of `key` passed: its failures are forgotten. */
  passed(key: string): void;
}

/**
 * A token bucket per client of *failed* verifications: each 401 takes a token, and a client with
 * none left is answered 429 before its body is read or any signature computed. why: verifying a
 * forged request costs CPU (an HMAC over up to the route's body limit, Prolific's json.dumps
 * re-serialisation), and without a limit anyone could spend it for free (issue #22, item 3). A
 * sender whose requests verify never takes a token, so it is never limited by this; and one request
 * that verifies gives its key all its tokens back, so a platform's relay that also carries someone
 * else's failing calls (another Study or workspace pointed at this URL) is refused only until one of
 * its valid calls gets through again.
 */
export function createFailureLimiter(
  opts: RateLimitOptions,
  now: () => number = Date.now,
): FailureLimiter {
  if (!opts.enabled)
    return { check: () => undefined, failed: () => undefined, passed: () => undefined };
  const { bucket, limited, forget } = createBuckets(opts, now);
  return {
    check(key, close = false) {
      const b = bucket(key);
      if (b.tokens < 1) throw limited(b.tokens, close ? { Connection: 'close' } : {});
    },
    failed(key) {
      bucket(key).tokens -= 1;
    },
    passed: forget,
  };
}
