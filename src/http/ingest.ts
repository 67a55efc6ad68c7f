import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { Adapter, IncomingRequest, Reply } from '../adapter/types.js';
import type { BlobStore } from '../blobs/blob-store.js';
import type { ResolvedConfig } from '../config/load-config.js';
import { StudyhookError } from '../errors.js';
import { buildEvent, sha256Hex } from '../event/build-event.js';
import { accessLogger, type Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Publisher } from '../queue/publisher.js';
import { keepQuarantined, redactFields } from '../quarantine/quarantine.js';
import { validatePayload } from '../schemas.js';
import { allowedOrigins, applyCors, missOrigins } from './apply-cors.js';
import { createClientIp } from './client-ip.js';
import { isMultipart, parseBody } from './parse-body.js';
import { parseMultipart } from './parse-multipart.js';
import { createFailureLimiter, createRateLimiter } from './rate-limit.js';
import { readBody } from './read-body.js';
import { findRoute, type RouteMatch, type RouteMiss } from './resolve-route.js';
import { writeError, writeReply, type ErrorContext } from './write-reply.js';

export interface IngestDeps {
  adapters: ReadonlyMap<string, Adapter>;
  config: ResolvedConfig;
  publisher: Publisher;
  blobs: BlobStore;
  logger: Logger;
  metrics: Metrics;
}

/** Header names never logged nor kept, whatever the adapter says. */
export const SECRET_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;
const ROUTE_CACHE = 1000;
/** A client refused by the failure limit whose declared body is larger than this has its connection closed. */
const CLOSE_ABOVE_BYTES = 16 * 1024;

function defaultReply(events: readonly { id: string }[]): Reply {
  return { status: 200, body: { ok: true, events: events.map((e) => e.id) } };
}

/**
 * The one ingest pipeline, for every platform: route → CORS → limits → verify (raw bytes) → parse →
 * validate → normalise → publish (durable) → reply. Adapters only supply the pieces.
 *
 * It runs on plain node:http objects, not through express: every platform route needs the raw bytes
 * anyway, and express's router and response helpers cost more CPU per request than the whole
 * pipeline (bench/README.md). `headers` go on every reply (helmet's, computed once).
 */
export function createIngestHandler(deps: IngestDeps, headers: Readonly<Record<string, string>> = {}) {
  const { config, logger, metrics } = deps;
  const access = accessLogger(logger);
  const rateLimit = createRateLimiter(config.server.rateLimit);
  const failures = createFailureLimiter(config.server.verifyFailureLimit);
  const clientIp = createClientIp(config.server.trustProxy);
  const secretHeaders = new Map([...deps.adapters.values()].map((a) => [a.platform, new Set([...SECRET_HEADERS, ...(a.secretHeaders ?? [])])]));
  const routes = new Map<string, RouteMatch>();

  // why: a lab's platforms call the same few paths over and over, and a lookup costs less than
  // resolving. Only matches without path parameters are kept (a parameter may be a secret token),
  // and at most ROUTE_CACHE of them, so that no caller can grow it.
  function matchPath(path: string): RouteMatch | RouteMiss {
    const hit = routes.get(path);
    if (hit) return hit;
    const m = findRoute(path, deps.adapters, config.platforms);
    if ('error' in m) return m;
    if (Object.keys(m.params).length === 0) {
      if (routes.size >= ROUTE_CACHE) routes.clear();
      Object.freeze(m.params);
      routes.set(path, m);
    }
    return m;
  }

  async function run(req: IncomingMessage, res: ServerResponse, ctx: ErrorContext & { requestId: string }, query: string | undefined): Promise<void> {
    const m = matchPath(ctx.path);
    if ('error' in m) {
      // why: on a platform with browser-facing routes, a mistyped URL Path must show as a readable 404, not as a CORS error.
      if (m.adapter && m.platform && m.adapter.routes.some((r) => r.cors)) {
        if (req.method === 'OPTIONS') res.setHeader('X-Request-Id', ctx.requestId);
        const headers = applyCors(req, res, missOrigins(m.adapter, m.platform), ctx.base, false);
        if (!headers) return; // preflight answered, so that the page gets to read the 404 of its request
        ctx.base = headers;
      }
      throw m.error;
    }
    ctx.platform = m.platform;
    ctx.route = m.routeName || '/';
    const { route } = m;
    const ip = clientIp(req);
    if (route.cors) {
      if (req.method === 'OPTIONS') res.setHeader('X-Request-Id', ctx.requestId); // why: a preflight is answered inside applyCors
      const headers = applyCors(req, res, allowedOrigins(m.adapter, m.settings), ctx.base);
      if (!headers) return; // preflight answered
      ctx.base = headers;
      rateLimit(ip); // why: browser-facing routes are open to anyone's script; after CORS so a 429 is readable
    }
    const methods = route.methods ?? ['POST'];
    const method = req.method ?? 'GET';
    if (!methods.includes(method)) throw new StudyhookError('SH_METHOD_NOT_ALLOWED', `${method} is not accepted here (use ${methods.join(', ')})`, { headers: { Allow: methods.join(', ') } });

    const verify = route.verify ?? m.adapter.verify;
    // why: before the body is read: a client whose requests keep failing verification gets no more of our CPU.
    // Counted per client and configured namespace, so that a sender failing on one namespace (a stale
    // secret) is not refused on the others; unlisted namespaces share the `*` count, so names cannot be
    // invented to get more tries.
    const failureKey = verify ? `${ip}\u001f${m.platform}\u001f${m.settingsKey}` : '';
    // why: a 429 leaves the body unread, and node receives and discards it to keep the connection: for a
    // large or undeclared body (up to ActiGraph's 1 MiB) the connection is dropped instead (below, in the
    // catch), so that a refusal does not cost more the bigger the body is; a small one keeps its connection.
    if (verify) failures.check(failureKey, !(Number(req.headers['content-length']) <= CLOSE_ABOVE_BYTES));

    const multipart = route.body === 'multipart';
    if (multipart && !isMultipart(req.headers['content-type'])) throw new StudyhookError('SH_UNSUPPORTED_MEDIA_TYPE', 'Expected multipart/form-data');
    const limit = (typeof route.maxBytes === 'function' ? route.maxBytes(m.settings) : route.maxBytes) ?? config.server.bodyLimitBytes;
    const body = multipart ? Buffer.alloc(0) : await readBody(req, limit);
    const incoming: IncomingRequest = {
      method, platform: m.platform, namespace: m.namespace, route: m.routeName, params: m.params,
      headers: req.headers as Record<string, string | undefined>, query: query ? parseQuery(query) as Record<string, string> : {},
      body, ip, requestId: ctx.requestId, receivedAt: new Date(),
    };
    if (verify) {
      if (!(await verify(incoming, m.settings))) { failures.failed(failureKey); throw new StudyhookError('SH_UNAUTHORIZED'); }
      failures.passed(failureKey);
    }

    const handshake = route.handshake?.(incoming, m.settings);
    if (handshake) { metrics.handshakes.inc({ platform: m.platform }); logger.info({ requestId: ctx.requestId, platform: m.platform, namespace: m.namespace }, 'handshake answered'); writeReply(req, res, handshake, ctx.base, ctx.requestId); return; }

    const payload = multipart
      ? await parseMultipart(req, deps.blobs, { fileBytes: limit, files: 4, fields: 100, fieldBytes: 1024 * 1024 })
      : parseBody(route.body, body, req.headers['content-type']);
    const bodySha = sha256Hex(body);
    const problems = route.schema ? validatePayload(route.schema, payload) : [];
    if (problems.length > 0) {
      if (route.onInvalid !== 'quarantine') throw new StudyhookError('SH_INVALID_PAYLOAD', undefined, { details: problems });
      await keepQuarantined(config.dataDir, incoming, { bodysha256: bodySha, problems, payload: redactFields(payload, m.adapter.secretFields ?? []) });
      metrics.quarantined.inc({ platform: m.platform, route: ctx.route });
      logger.warn({ requestId: ctx.requestId, platform: m.platform, namespace: m.namespace, route: m.routeName, problems }, 'payload quarantined');
      writeReply(req, res, route.invalidReply?.(problems, incoming) ?? { status: 422, body: { statusCode: 422, code: 'SH_INVALID_PAYLOAD', error: 'Unprocessable Entity', message: 'Payload does not match the platform schema; it was kept in quarantine', details: problems } }, ctx.base, ctx.requestId);
      return;
    }

    const drafts = route.normalise({ payload, request: incoming, settings: m.settings });
    const envelopes = drafts.map((d) => buildEvent(d, incoming, bodySha, secretHeaders.get(m.platform)!));
    await deps.publisher.publish(envelopes);
    const events = envelopes.map((e) => ({ id: e.event.id, type: e.event.type, data: e.event.data }));
    writeReply(req, res, route.reply?.(events, incoming) ?? defaultReply(events), ctx.base, ctx.requestId);
  }

  /** Request metric and access log line (for requests that reached a platform route), once the reply is written. */
  function done(req: IncomingMessage, res: ServerResponse, ctx: ErrorContext & { requestId: string }, start: bigint): void {
    const { platform } = ctx;
    metrics.countRequest(platform ?? 'none', platform === undefined ? 'other' : ctx.route ?? '/', res.statusCode);
    if (platform === undefined) return;
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    access({ requestId: ctx.requestId, method: req.method ?? '', platform, route: ctx.route ?? '/', status: res.statusCode, ms: Math.round(ms * 10) / 10 });
  }

  return function ingest(req: IncomingMessage, res: ServerResponse, path: string, query?: string): void {
    const start = process.hrtime.bigint();
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    // why: `base` is the shared helmet set, not a per-request copy: writeReply copies it once and adds the request id.
    const ctx: ErrorContext & { requestId: string } = { requestId, path, base: headers };
    run(req, res, ctx, query)
      .catch((err: unknown) => {
        // why: `Connection: close` alone would still have node receive the unread body until the client stops
        // sending; dropping the socket once the reply is out spares that (failure limit, large bodies).
        if (err instanceof StudyhookError && err.headers['Connection'] === 'close') res.once('finish', () => { req.socket.destroy(); });
        writeError(err, req, res, ctx, logger);
      })
      .finally(() => { done(req, res, ctx, start); });
  };
}
