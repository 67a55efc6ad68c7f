import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { LoadResult } from './procs.js';
import type { BuiltRequest } from './scenarios.js';

/** The same summary as an autocannon run's. */
export type PacedResult = LoadResult;

function percentile(sorted: number[], p: number): number {
  return sorted.length === 0
    ? 0
    : sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * An open-loop load at a steady `rate`: request i is due at start + i/rate and sent then (on up to
 * `connections` keep-alive sockets), and its latency counts from when it was due, so waiting for a
 * socket counts too. why: autocannon's overallRate lets every connection send as fast as it can
 * until its quota for the current second is used, then idle: bursts at full speed, not a rate.
 */
export async function pacedLoad(opts: {
  url: string;
  rate: number;
  duration: number;
  connections: number;
  build: () => BuiltRequest;
}): Promise<PacedResult> {
  const { hostname, port } = new URL(opts.url);
  const agent = new Agent({ keepAlive: true, maxSockets: opts.connections });
  const latencies: number[] = [];
  let non2xx = 0,
    errors = 0,
    sent = 0,
    open = 0;
  const start = performance.now();
  const end = start + opts.duration * 1000;
  await new Promise<void>((resolve) => {
    let stopped = false;
    const fire = (due: number): void => {
      const r = opts.build();
      open++;
      const req = request(
        {
          host: hostname,
          port,
          method: r.method,
          path: r.path,
          agent,
          headers: { ...r.headers, 'content-length': Buffer.byteLength(r.body) },
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(performance.now() - due);
            if ((res.statusCode ?? 0) >= 300) non2xx++;
            if (--open === 0 && stopped) resolve();
          });
        },
      );
      req.on('error', () => {
        errors++;
        if (--open === 0 && stopped) resolve();
      });
      req.end(r.body);
    };
    const timer = setInterval(() => {
      const now = performance.now();
      const due = Math.floor(((Math.min(now, end) - start) / 1000) * opts.rate);
      while (sent < due) fire(start + (sent++ * 1000) / opts.rate);
      if (now >= end) {
        clearInterval(timer);
        stopped = true;
        if (open === 0) resolve();
      }
    }, 1);
  });
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const round = (ms: number): number => Math.round(ms * 10) / 10;
  return {
    rps: latencies.length / opts.duration,
    p50: round(percentile(latencies, 50)),
    p99: round(percentile(latencies, 99)),
    total: latencies.length,
    non2xx,
    errors,
    timeouts: 0,
  };
}
