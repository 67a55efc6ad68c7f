import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Prometheus metrics of one process. Gauges of queue depth are filled on scrape by `onScrape`. */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'studyhook_' });
  const scrapeHooks: (() => Promise<void>)[] = [];
  const m = {
    registry,
    requests: new Counter({ name: 'studyhook_http_requests_total', help: 'HTTP requests by platform, route and status', labelNames: ['platform', 'route', 'status'], registers: [registry] }),
    publishSeconds: new Histogram({ name: 'studyhook_publish_duration_seconds', help: 'Time to make one request\'s events durable in Redis', buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5], registers: [registry] }),
    events: new Counter({ name: 'studyhook_events_published_total', help: 'Events published, by type', labelNames: ['type'], registers: [registry] }),
    quarantined: new Counter({ name: 'studyhook_events_quarantined_total', help: 'Payloads kept as quarantined because they failed their schema', labelNames: ['platform', 'route'], registers: [registry] }),
    handshakes: new Counter({ name: 'studyhook_handshakes_total', help: 'Handshake requests answered without an event', labelNames: ['platform'], registers: [registry] }),
    deliveries: new Counter({ name: 'studyhook_deliveries_total', help: 'Sink deliveries by sink and outcome (ok, retry, failed)', labelNames: ['sink', 'outcome'], registers: [registry] }),
    queueDepth: new Gauge({ name: 'studyhook_queue_jobs', help: 'Jobs per sink queue and state', labelNames: ['sink', 'state'], registers: [registry],
      async collect() { await Promise.all(scrapeHooks.map((h) => h().catch(() => undefined))); } }),
    onScrape(hook: () => Promise<void>) { scrapeHooks.push(hook); },
  };
  return m;
}

export type Metrics = ReturnType<typeof createMetrics>;
