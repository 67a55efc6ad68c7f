// The throughput rows of `npm run bench`: every target's repetition i runs before any target's
// repetition i + 1, so that a machine that slows down or speeds up during the run (this one's
// shared cores do, by tens of percent within minutes) moves every target alike, and the ratios
// against the skeletons stay fair.
import type { BenchOptions } from './options.js';
import { load, median, processCpu, type LoadResult } from './procs.js';
import type { Row } from './report.js';

/** A server under load: one autocannon per port (their req/s add up), `between` after each run. */
export interface Target {
  name: string;
  ports: number[];
  /** The server processes whose CPU time per request the row reports. */
  pids: number[];
  key: string;
  /** Empties the queue after a run (a skeleton's obliterate, or a worker draining studyhook's). */
  between: () => Promise<void>;
  /** True when `between` drains a backlog worth reporting (how long it took). */
  drains: boolean;
}

/** `redisPid`: a local Redis server, whose CPU time per request the rows then report too. */
type Settings = Pick<BenchOptions, 'connections' | 'duration' | 'warmup' | 'reps'> & {
  redisPid?: number | undefined;
};

type Once = LoadResult & { cpuUs: number; redisUs: number };

async function once(t: Target, o: Settings, duration: number): Promise<Once> {
  const connections = Math.max(1, Math.round(o.connections / t.ports.length));
  const cpu = (): number => t.pids.reduce((s, pid) => s + processCpu(pid), 0);
  const redisCpu = (): number => (o.redisPid ? processCpu(o.redisPid) : 0);
  const cpu0 = cpu(),
    redis0 = redisCpu();
  const parts = await Promise.all(
    t.ports.map((p) => load({ url: `http://127.0.0.1:${p}`, key: t.key, connections, duration })),
  );
  const total = parts.reduce((s, r) => s + r.total, 0);
  const perRequest = (s: number): number => (total ? (s * 1e6) / total : 0);
  return {
    // why: the server's own CPU per request is steadier than req/s on shared cores, where the load generator and the server compete.
    cpuUs: perRequest(cpu() - cpu0),
    // why: Redis shares these cores, so what a request costs it is taken from the servers' throughput too.
    redisUs: perRequest(redisCpu() - redis0),
    rps: parts.reduce((s, r) => s + r.rps, 0),
    p50: Math.max(...parts.map((r) => r.p50)),
    p99: Math.max(...parts.map((r) => r.p99)),
    total,
    non2xx: parts.reduce((s, r) => s + r.non2xx, 0),
    errors: parts.reduce((s, r) => s + r.errors + r.timeouts, 0),
    timeouts: 0,
  };
}

/** A warm-up of each target, then `reps` rounds over all of them in turn; the median of each figure. */
export async function measureAll(
  targets: readonly Target[],
  o: Settings,
  log: (msg: string) => void,
): Promise<Row[]> {
  for (const t of targets) {
    await once(t, o, o.warmup);
    await t.between();
  }
  const reps = targets.map((): Once[] => []);
  const drainMs = targets.map(() => 0);
  const delivered = targets.map((): number[] => []);
  for (let i = 0; i < o.reps; i++) {
    for (const [k, t] of targets.entries()) {
      const r = await once(t, o, o.duration);
      reps[k]!.push(r);
      const started = Date.now();
      await t.between();
      const ms = Date.now() - started;
      drainMs[k] = Math.max(drainMs[k]!, ms);
      // why: a worker that falls behind still has a backlog when the load stops; its rate counts until it is delivered.
      delivered[k]!.push(r.total / (o.duration + ms / 1000));
    }
  }
  return targets.map((t, k) => {
    const rs = reps[k]!;
    const row: Row = {
      name: t.name,
      rps: median(rs.map((r) => r.rps)),
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      non2xx: rs.reduce((s, r) => s + r.non2xx, 0),
      errors: rs.reduce((s, r) => s + r.errors, 0),
      reps: rs.map((r) => Math.round(r.rps)),
      cpuUs: Math.round(median(rs.map((r) => r.cpuUs))),
      drainMs: t.drains ? drainMs[k] : undefined,
      deliveredRps: t.drains ? median(delivered[k]!) : undefined,
      redisUs: o.redisPid ? Math.round(median(rs.map((r) => r.redisUs))) : undefined,
    };
    log(
      `${t.name}: ${row.rps.toFixed(0)} req/s, p50 ${row.p50} ms, p99 ${row.p99} ms, ${row.cpuUs} µs CPU/req${row.redisUs === undefined ? '' : `, Redis ${row.redisUs} µs/req`} (reps ${row.reps.join(', ')}; non-2xx ${row.non2xx}${t.drains ? `; backlog after a rep drained in ≤ ${row.drainMs} ms` : ''})`,
    );
    return row;
  });
}
