import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import express, { type Express, type Router } from 'express';
import helmet from 'helmet';
import { StudyhookError } from '../errors.js';
import { createErrorHandler } from './error-handler.js';
import { createIngestHandler, type IngestDeps } from './ingest.js';
import { createOpsRouter } from './ops-routes.js';
import { pathSegments } from './path-segments.js';

/**
 * helmet configured for replies that are never rendered as a page: the headers OWASP's REST
 * Security Cheat Sheet lists for every API response ("Security Headers"), plus
 * Cross-Origin-Resource-Policy, which keeps a no-cors page from pulling a reply into its process.
 * The ones that only act on HTML documents (document CSP directives, COOP, Origin-Agent-Cluster,
 * Referrer-Policy, X-DNS-Prefetch-Control, X-Download-Options, X-Permitted-Cross-Domain-Policies,
 * X-XSS-Protection) stay for the ops routes and the dashboard, which are served by express with helmet's defaults.
 */
const apiHelmet = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: { defaultSrc: ["'none'"], frameAncestors: ["'none'"] },
  },
  crossOriginOpenerPolicy: false,
  originAgentCluster: false,
  referrerPolicy: false,
  xDnsPrefetchControl: false,
  xDownloadOptions: false,
  xFrameOptions: { action: 'deny' },
  xPermittedCrossDomainPolicies: false,
  xXssProtection: false,
});

/**
 * The platform routes' headers, set once: with static options helmet's middleware only calls
 * setHeader, so the platform routes (which skip express) get its headers without running it per request.
 */
function helmetHeaders(): Readonly<Record<string, string>> {
  const headers = new Map<string, string>();
  const res = {
    setHeader: (k: string, v: unknown) => {
      headers.set(k, String(v));
    },
    removeHeader: (k: string) => {
      headers.delete(k);
    },
  };
  apiHelmet({} as IncomingMessage, res as unknown as ServerResponse, (err?: unknown) => {
    if (err) throw err;
  });
  // why: an acknowledgement or an error is about one delivery; no cache, shared or private, should keep it (OWASP, as above).
  headers.set('Cache-Control', 'no-store');
  return Object.freeze(Object.fromEntries(headers));
}

/**
 * The HTTP API: a platform's paths (`/<platform>/...`) go straight to the one ingest pipeline on
 * node:http; everything else (health, metrics, dashboard) to a small express app.
 */
export function createApp(deps: IngestDeps, extra: { dashboard?: Router } = {}): RequestListener {
  const ingest = createIngestHandler(deps, helmetHeaders());
  const ops = createOpsApp(deps, { spools: true, ...extra });
  return (req, res) => {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    if (deps.adapters.has(pathSegments(path)[0] ?? ''))
      ingest(req, res, path, q < 0 ? undefined : url.slice(q + 1));
    else void ops(req, res);
  };
}

/** The ops routes (`/healthz`, `/readyz`, `/metrics`, the dashboard); alone in a worker-only process. */
export function createOpsApp(
  deps: Pick<IngestDeps, 'config' | 'publisher' | 'metrics' | 'logger'>,
  opts: { spools: boolean; dashboard?: Router },
): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', deps.config.server.trustProxy);
  app.set('etag', false);
  app.use(helmet());
  app.use((_req, res, next) => {
    res.on('finish', () => {
      deps.metrics.countRequest('none', 'other', res.statusCode);
    });
    next();
  });
  app.use(createOpsRouter({ ...deps, spools: opts.spools }));
  if (opts.dashboard) app.use(opts.dashboard);
  app.use(() => {
    throw new StudyhookError('SH_UNKNOWN_PLATFORM');
  });
  app.use(createErrorHandler(deps.logger));
  return app;
}
