import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * A labelled counter counted in a Map and handed to prom-client when scraped. why: prom-client's
 * inc(labels) builds a key from the labels object and validates it on every call, on the hot path
 * of every request (it showed in the bench's profile); here a call is one Map lookup by a prebuilt key.
 */
function tally(counter: {
  name: string;
  help: string;
  labelNames: readonly string[];
  registry: Registry;
}) {
  const counts = new Map<string, { labels: Record<string, string>; n: number }>();
  new Counter({
    name: counter.name,
    help: counter.help,
    labelNames: counter.labelNames,
    registers: [counter.registry],
    collect() {
      this.reset();
      for (const c of counts.values()) this.inc(c.labels, c.n);
    },
  });
  return (key: string, labels: () => Record<string, string>): void => {
    const c = counts.get(key);
    if (c) c.n++;
    else counts.set(key, { labels: labels(), n: 1 });
  };
}

/** Prometheus metrics of one process. Gauges of queue depth are filled on scrape by `onScrape`. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'studyhook_' });
  const scrapeHooks: (() => Promise<void>)[] = [];
  const requests = tally({
    name: 'studyhook_http_requests_total',
    help: 'HTTP requests by platform, route and status',
    labelNames: ['platform', 'route', 'status'],
    registry,
  });
  const events = tally({
    name: 'studyhook_events_published_total',
    help: 'Events published, by type',
    labelNames: ['type'],
    registry,
  });
  const m = {
    registry,
    /** One HTTP request answered (`studyhook_http_requests_total`). */
    countRequest(platform: string, route: string, status: number): void {
      requests(`${platform}\u0000${route}\u0000${status}`, () => ({
        platform,
        route,
        status: String(status),
      }));
    },
    /** One event published (`studyhook_events_published_total`). */
    countEvent(type: string): void {
      events(type, () => ({ type }));
    },
    publishSeconds: new Histogram({
      name: 'studyhook_publish_duration_seconds',
      help: "Time to make one request's events durable in Redis",
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5],
      registers: [registry],
    }),
    quarantined: new Counter({
      name: 'studyhook_events_quarantined_total',
      help: 'Payloads kept as quarantined because they failed their schema',
      labelNames: ['platform', 'route'],
      registers: [registry],
    }),
    replays: new Counter({
      name: 'studyhook_replays_total',
      help: 'Signed requests resent under a new event id: acknowledged, not delivered again',
      labelNames: ['platform'],
      registers: [registry],
    }),
    handshakes: new Counter({
      name: 'studyhook_handshakes_total',
      help: 'Handshake requests answered without an event',
      labelNames: ['platform'],
      registers: [registry],
    }),
    deliveries: new Counter({
      name: 'studyhook_deliveries_total',
      help: 'Sink deliveries by sink and outcome (ok, retry, failed)',
      labelNames: ['sink', 'outcome'],
      registers: [registry],
    }),
    batches: new Counter({
      name: 'studyhook_sink_batches_total',
      help: 'Writes of batching sinks (INSERT statements, fsyncs of the archive), by sink',
      labelNames: ['sink'],
      registers: [registry],
    }),
    batchedItems: new Counter({
      name: 'studyhook_sink_batched_items_total',
      help: 'Deliveries those writes held (over batches: items per write), by sink',
      labelNames: ['sink'],
      registers: [registry],
    }),
    queueDepth: new Gauge({
      name: 'studyhook_queue_jobs',
      help: 'Jobs per sink queue and state',
      labelNames: ['sink', 'state'],
      registers: [registry],
      async collect() {
        await Promise.all(scrapeHooks.map((h) => h().catch(() => undefined)));
      },
    }),
    onScrape(hook: () => Promise<void>) {
      scrapeHooks.push(hook);
    },
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
