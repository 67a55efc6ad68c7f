import express, { type Express, type Router } from 'express';
import helmet from 'helmet';
import { requireAdmin } from './admin-auth.js';
import { createErrorHandler } from './error-handler.js';
import { createIngestHandler, type IngestDeps } from './ingest.js';

/** The HTTP API: ops routes, then every platform through the one ingest pipeline. */
export function createApp(deps: IngestDeps, extra: { dashboard?: Router } = {}): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.config.server.trustProxy);
  app.set('etag', false);
  app.use(helmet());
  app.use((req, res, next) => {
    const start = process.hrtime.bigint();
    res.on('finish', () => {
      const platform = String(res.locals['platform'] ?? 'none');
      const route = String(res.locals['route'] ?? req.path);
      deps.metrics.requests.inc({ platform, route: platform === 'none' ? 'other' : route, status: String(res.statusCode) });
      if (platform !== 'none') {
        const ms = Number(process.hrtime.bigint() - start) / 1e6;
        deps.logger.info({ requestId: res.locals['requestId'], method: req.method, platform, route, status: res.statusCode, ms: Math.round(ms * 10) / 10 }, 'request');
      }
    });
    next();
  });
  app.get('/healthz', (_req, res) => { res.json({ status: 'ok' }); });
  app.get('/readyz', async (_req, res) => {
    const redis = await deps.publisher.ready();
    // why: with the spool on, a Redis outage is bridged here; taking the API out of rotation would lose calls.
    const spooling = !redis && deps.config.spool.enabled;
    res.status(redis || spooling ? 200 : 503).json({ status: redis ? 'ready' : spooling ? 'spooling' : 'unavailable', redis });
  });
  app.get('/metrics', requireAdmin(deps.config.admin.token), async (_req, res) => {
    res.type(deps.metrics.registry.contentType).send(await deps.metrics.registry.metrics());
  });
  if (extra.dashboard) app.use(extra.dashboard);
  app.use(createIngestHandler(deps));
  app.use(createErrorHandler(deps.logger));
  return app;
}
