// Runs autocannon in its own process (so the load generator never shares a core's event loop with
// the bench or a server) and prints the summary as one JSON line.
import autocannon from 'autocannon';
import { pacedLoad } from './paced-load.js';
import { builderFor } from './scenarios.js';

/** `rate`: a steady open-loop load at that many requests per second (bench/paced-load.ts); else autocannon as fast as it can, for `duration` s or, given, `amount` requests. */
interface LoadOptions {
  url: string;
  key: string;
  connections: number;
  duration: number;
  rate?: number;
  amount?: number;
}
const opts = JSON.parse(process.argv[2] ?? '{}') as LoadOptions;
const build = builderFor(opts.key);
const first = build();
if (opts.rate) {
  process.stdout.write(
    JSON.stringify(
      await pacedLoad({
        url: opts.url,
        rate: opts.rate,
        duration: opts.duration,
        connections: opts.connections,
        build,
      }),
    ) + '\n',
  );
  process.exit(0);
}

const result = await autocannon({
  url: opts.url,
  connections: opts.connections,
  ...(opts.amount ? { amount: opts.amount, timeout: 120 } : { duration: opts.duration }),
  requests: [
    {
      method: first.method,
      path: first.path,
      headers: first.headers,
      body: first.body,
      setupRequest: (req) => {
        const r = build();
        return { ...req, headers: r.headers, body: r.body };
      },
    },
  ],
});
process.stdout.write(
  JSON.stringify({
    rps: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  }) + '\n',
);
