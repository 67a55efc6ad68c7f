import type { Logger } from './logger.js';

type Counts = { received: number; delivered: number; failed: number; deadLetters: number };

/** Counts what happened per platform and sums it up in one info line per interval with activity. */
export interface ActivitySummary {
  count(platform: string, what: keyof Counts, n?: number): void;
  /** Logs the counts since the last line and resets them; false (and nothing logged) when there were none. */
  flush(): boolean;
  stop(): void;
}

/**
 * why: at info a busy gateway writes one access line per request but nothing about deliveries
 * (those are debug); an operator wants "is it flowing?" at a glance, and silence when idle.
 */
export function createActivitySummary(logger: Logger, intervalMs: number): ActivitySummary {
  let counts = new Map<string, Counts>();
  let since = Date.now();
  const summary: ActivitySummary = {
    count(platform, what, n = 1) {
      let c = counts.get(platform);
      if (!c) {
        c = { received: 0, delivered: 0, failed: 0, deadLetters: 0 };
        counts.set(platform, c);
      }
      c[what] += n;
    },
    flush() {
      const now = Date.now();
      const seconds = Math.round((now - since) / 1000);
      since = now;
      if (counts.size === 0) return false;
      const activity = Object.fromEntries(counts);
      counts = new Map();
      const total = (k: keyof Counts) => Object.values(activity).reduce((n, c) => n + c[k], 0);
      logger.info(
        { activity, seconds },
        `activity in the last ${seconds} s: ${total('received')} received, ${total('delivered')} delivered, ${total('failed')} failed attempts, ${total('deadLetters')} dead letters`,
      );
      return true;
    },
    stop() {
      clearInterval(timer);
    },
  };
  const timer = setInterval(() => {
    summary.flush();
  }, intervalMs);
  timer.unref();
  return summary;
}
