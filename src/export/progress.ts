import type { DuckDBConnection } from '@duckdb/node-api';

/**
 * A progress line on stderr for long runs: the current step and how far the engine is through it,
 * at most every `everyMs`, and nothing at all for a run shorter than that.
 */
export function createProgress(
  conn: DuckDBConnection,
  write: (line: string) => void,
  everyMs = 2000,
): { step(label: string): void; stop(): void } {
  let label = '';
  const started = Date.now();
  const timer = setInterval(() => {
    let pct = '';
    try {
      const p = conn.progress.percentage;
      if (p >= 0) pct = `: ${p.toFixed(0)}%`;
    } catch {
      /* no query running */
    }
    write(`studyhook export: ${label}${pct} (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  }, everyMs);
  timer.unref();
  return {
    step(l) {
      label = l;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
