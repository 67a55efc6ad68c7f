// CPU time per event of the processes a drain keeps busy (bench/sinks.ts, drain rows), to show what
// bounds a sink's rate: the worker, Redis, or PostgreSQL. Read from /proc, so only for processes on
// this machine (0 for a remote Redis or database).
import { availableParallelism } from 'node:os';
import pg from 'pg';
import { processCpu } from './procs.js';

/** Microseconds of CPU per event delivered. */
export interface DrainCpu {
  worker: number;
  redis: number;
  postgres: number;
}

/**
 * The most events per second that CPU time allows on this machine's cores, had the drain them to
 * itself: the worker is one thread (one core at most), and all three share the cores.
 */
export function cpuCeiling(u: DrainCpu, cores = availableParallelism()): number {
  const all = u.worker + u.redis + u.postgres;
  return u.worker > 0 ? Math.min(1e6 / u.worker, (cores * 1e6) / all) : 0;
}

/** Server processes of the database (backends and background writers alike), by pid. */
async function pgPids(pgUrl: string | undefined): Promise<number[]> {
  if (!pgUrl) return [];
  const client = new pg.Client({ connectionString: pgUrl });
  try {
    await client.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pid FROM pg_stat_activity');
    return rows.map((r) => r.pid);
  } catch {
    return [];
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Starts counting; `stop(events)` returns the CPU each process used since, per event. */
export async function cpuMeter(
  workerPid: number,
  redisPid: number | undefined,
  pgUrl: string | undefined,
): Promise<{ stop(events: number): Promise<DrainCpu> }> {
  const pgStart = new Map((await pgPids(pgUrl)).map((p) => [p, processCpu(p)]));
  const [worker, redis] = [processCpu(workerPid), redisPid ? processCpu(redisPid) : 0];
  return {
    async stop(events) {
      // why: a backend that started during the drain (the pool opening a connection) counts from 0.
      const pgUsed = (await pgPids(pgUrl)).reduce(
        (sum, p) => sum + Math.max(0, processCpu(p) - (pgStart.get(p) ?? 0)),
        0,
      );
      const perEvent = (s: number): number => Math.round((s * 1e6) / events);
      return {
        worker: perEvent(processCpu(workerPid) - worker),
        redis: perEvent(redisPid ? processCpu(redisPid) - redis : 0),
        postgres: perEvent(pgUsed),
      };
    },
  };
}
