import express, { type Router } from 'express';
import { requireAdmin } from './admin-auth.js';
import type { IngestDeps } from './ingest.js';

/** `/healthz`, `/readyz` and `/metrics` (admin token), for the API and for worker-only processes. */
export function createOpsRouter(deps: Pick<IngestDeps, 'config' | 'publisher' | 'metrics'> & { spools: boolean }): Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => { res.json({ status: 'ok' }); });
  router.get('/readyz', async (_req, res) => {
    const redis = await deps.publisher.ready();
    const spoolBytes = deps.publisher.backlogBytes();
    // why: with the spool on, a Redis outage is bridged here; taking the API out of rotation would lose calls.
    const spooling = !redis && deps.config.spool.enabled && deps.spools;
    const status = redis ? (spoolBytes > 0 ? 'draining' : 'ready') : spooling ? 'spooling' : 'unavailable';
    res.status(redis || spooling ? 200 : 503).json({ status, redis, spoolBytes });
  });
  router.get('/metrics', requireAdmin(deps.config.admin.token), async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  return router;
}
