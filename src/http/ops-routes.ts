import express, { type Router } from 'express';
import { requireAdmin } from './admin-auth.js';
import type { IngestDeps } from './ingest.js';

// why: no public docs site yet; the page ships with the package.
const DOCS = 'docs/operations.md in the studyhook package';

/** `/`, `/healthz`, `/readyz` and `/metrics` (admin token), for the API and for worker-only processes. */
export function createOpsRouter(
  deps: Pick<IngestDeps, 'config' | 'publisher' | 'metrics'> & { spools: boolean },
): Router {
  const router = express.Router();
  // why: whoever opens the gateway's address in a browser (or curls it) learns where to go, instead of SH_UNKNOWN_PLATFORM.
  router.get('/', (_req, res) => {
    const routes: Record<string, string> = {
      health: '/healthz',
      ready: '/readyz',
      metrics: '/metrics (admin token)',
      ...(deps.config.admin.token && { dashboard: '/admin' }),
    };
    const pointer = {
      service: 'studyhook',
      webhooks: '/<platform>/<namespace>',
      ...routes,
      docs: DOCS,
    };
    res.format({
      'application/json': () => {
        res.json(pointer);
      },
      'text/html': () => {
        const items = Object.entries(routes)
          .map(([k, v]) => `<li>${k}: <code>${v.replace(/</g, '&lt;')}</code></li>`)
          .join('');
        res
          .type('html')
          .send(
            `<!doctype html><meta charset="utf-8"><title>studyhook</title><h1>studyhook</h1><p>A webhook gateway: platforms post to <code>/&lt;platform&gt;/&lt;namespace&gt;</code>.</p><ul>${items}</ul><p>Docs: ${DOCS}</p>`,
          );
      },
      default: () => {
        res.json(pointer);
      },
    });
  });
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    const redis = await deps.publisher.ready();
    const spoolBytes = deps.publisher.backlogBytes();
    // why: with the spool on, a Redis outage is bridged here; taking the API out of rotation would lose calls.
    const spooling = !redis && deps.config.spool.enabled && deps.spools;
    const status = redis
      ? spoolBytes > 0
        ? 'draining'
        : 'ready'
      : spooling
        ? 'spooling'
        : 'unavailable';
    res.status(redis || spooling ? 200 : 503).json({ status, redis, spoolBytes });
  });
  router.get('/metrics', requireAdmin(deps.config.admin.token), async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  return router;
}
