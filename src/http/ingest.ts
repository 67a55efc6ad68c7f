import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Adapter, IncomingRequest, Reply, RouteSpec } from '../adapter/types.js';
import type { BlobStore } from '../blobs/blob-store.js';
import type { ResolvedConfig } from '../config/load-config.js';
import { StudyhookError } from '../errors.js';
import { buildEvent, sha256Hex, type Envelope } from '../event/build-event.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Publisher } from '../queue/publisher.js';
import { keepQuarantined, redactFields } from '../quarantine/quarantine.js';
import { validatePayload } from '../schemas.js';
import { applyCors } from './apply-cors.js';
import { isMultipart, parseBody } from './parse-body.js';
import { parseMultipart } from './parse-multipart.js';
import { createRateLimiter } from './rate-limit.js';
import { readBody } from './read-body.js';
import { resolveRoute } from './resolve-route.js';

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

function send(res: Response, reply: Reply): void {
  for (const [k, v] of Object.entries(reply.headers ?? {})) res.setHeader(k, v);
  if (reply.body === undefined) res.status(reply.status).end();
  else if (Buffer.isBuffer(reply.body) || typeof reply.body === 'string') res.status(reply.status).send(reply.body);
  else res.status(reply.status).type('application/json').send(JSON.stringify(reply.body));
}

function defaultReply(events: readonly { id: string }[]): Reply {
  return { status: 200, body: { ok: true, events: events.map((e) => e.id) } };
}

/**
 * The one ingest pipeline, for every platform: route → CORS → limits → verify (raw bytes) → parse →
 * validate → normalise → publish (durable) → reply. Adapters only supply the pieces.
 */
export function createIngestHandler(deps: IngestDeps) {
  const { config } = deps;
  const rateLimit = createRateLimiter(config.server.rateLimit);
  return async function ingest(req: Request, res: Response): Promise<void> {
    const requestId = typeof req.headers['x-request-id'] === 'string' && REQUEST_ID.test(req.headers['x-request-id']) ? req.headers['x-request-id'] : randomUUID();
    res.setHeader('X-Request-Id', requestId);
    res.locals['requestId'] = requestId;
    const m = resolveRoute(req.path, deps.adapters, config.platforms);
    res.locals['platform'] = m.platform;
    res.locals['route'] = m.routeName || '/';
    const route: RouteSpec = m.route;
    if (route.cors && applyCors(req, res, m.adapter, m.settings)) return; // preflight answered
    if (route.cors) rateLimit(req.ip ?? ''); // why: browser-facing routes are open to anyone's script; after CORS so a 429 is readable
    const methods = route.methods ?? ['POST'];
    if (!methods.includes(req.method)) throw new StudyhookError('SH_METHOD_NOT_ALLOWED', `${req.method} is not accepted here (use ${methods.join(', ')})`, { headers: { Allow: methods.join(', ') } });

    const multipart = route.body === 'multipart';
    if (multipart && !isMultipart(req.headers['content-type'])) throw new StudyhookError('SH_UNSUPPORTED_MEDIA_TYPE', 'Expected multipart/form-data');
    const limit = (typeof route.maxBytes === 'function' ? route.maxBytes(m.settings) : route.maxBytes) ?? config.server.bodyLimitBytes;
    const body = multipart ? Buffer.alloc(0) : await readBody(req, limit);
    const incoming: IncomingRequest = {
      method: req.method, platform: m.platform, namespace: m.namespace, route: m.routeName, params: m.params,
      headers: req.headers as Record<string, string | undefined>, query: req.query as Record<string, string>,
      body, ip: req.ip ?? '', requestId, receivedAt: new Date(),
    };
    const verify = route.verify ?? m.adapter.verify;
    if (verify && !(await verify(incoming, m.settings))) throw new StudyhookError('SH_UNAUTHORIZED');

    const handshake = route.handshake?.(incoming, m.settings);
    if (handshake) { deps.metrics.handshakes.inc({ platform: m.platform }); deps.logger.info({ requestId, platform: m.platform, namespace: m.namespace }, 'handshake answered'); send(res, handshake); return; }

    const payload = multipart
      ? await parseMultipart(req, deps.blobs, { fileBytes: limit, files: 4, fields: 100, fieldBytes: 1024 * 1024 })
      : parseBody(route.body, body, req.headers['content-type']);
    const bodySha = sha256Hex(body);
    const problems = route.schema ? validatePayload(route.schema, payload) : [];
    if (problems.length > 0) {
      if (route.onInvalid !== 'quarantine') throw new StudyhookError('SH_INVALID_PAYLOAD', undefined, { details: problems });
      await keepQuarantined(config.dataDir, incoming, { bodysha256: bodySha, problems, payload: redactFields(payload, m.adapter.secretFields ?? []) });
      deps.metrics.quarantined.inc({ platform: m.platform, route: m.routeName || '/' });
      deps.logger.warn({ requestId, platform: m.platform, namespace: m.namespace, route: m.routeName, problems }, 'payload quarantined');
      send(res, route.invalidReply?.(problems, incoming) ?? { status: 422, body: { statusCode: 422, code: 'SH_INVALID_PAYLOAD', error: 'Unprocessable Entity', message: 'Payload does not match the platform schema; it was kept in quarantine', details: problems } });
      return;
    }

    const drafts = route.normalise({ payload, request: incoming, settings: m.settings });
    const secretHeaders = [...SECRET_HEADERS, ...(m.adapter.secretHeaders ?? [])];
    const envelopes: Envelope[] = drafts.map((d) => buildEvent(d, incoming, bodySha, secretHeaders));
    await deps.publisher.publish(envelopes);
    const events = envelopes.map((e) => ({ id: e.event.id, type: e.event.type, data: e.event.data }));
    send(res, route.reply?.(events, incoming) ?? defaultReply(events));
  };
}
