import express, { type Express, type Router } from 'express';
import helmet from 'helmet';
import { createErrorHandler } from './error-handler.js';
import { createIngestHandler, type IngestDeps } from './ingest.js';
import { createOpsRouter } from './ops-routes.js';

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
  app.use(createOpsRouter({ ...deps, spools: true }));
  if (extra.dashboard) app.use(extra.dashboard);
  app.use(createIngestHandler(deps));
  app.use(createErrorHandler(deps.logger));
  return app;
}

/** A worker-only process: just the ops routes, so Prometheus can scrape its delivery metrics. */
export function createOpsApp(deps: Pick<IngestDeps, 'config' | 'publisher' | 'metrics' | 'logger'>): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(helmet());
  app.use(createOpsRouter({ ...deps, spools: false }));
  app.use(createErrorHandler(deps.logger));
  return app;
}
