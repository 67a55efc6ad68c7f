import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { Adapter, IncomingRequest, Reply, Verified } from '../adapter/types.js';
import { removeBlobs, type BlobStore, type FileRef } from '../blobs/blob-store.js';
import type { ResolvedConfig } from '../config/load-config.js';
import { errorReply, StudyhookError } from '../errors.js';
import { sha256Hex } from '../event/build-event.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Publisher } from '../queue/publisher.js';
import { processRequest, secretHeadersOf } from '../pipeline/process-request.js';
import { publishStep } from '../pipeline/publish-step.js';
import { keepQuarantined } from '../quarantine/quarantine.js';
import { allowedOrigins, applyCors, missOrigins } from './apply-cors.js';
import { createClientIp } from './client-ip.js';
import { isMultipart } from './parse-body.js';
import { parseMultipart, UPLOAD_FIELDS } from './parse-multipart.js';
import { createFailureLimiter, createRateLimiter } from './rate-limit.js';
import { readBody } from './read-body.js';
import { findRoute } from './resolve-route.js';
import { writeError, writeReply, type ErrorContext } from './write-reply.js';

export interface IngestDeps {
  adapters: ReadonlyMap<string, Adapter>;
  config: ResolvedConfig;
  publisher: Publisher;
  blobs: BlobStore;
  logger: Logger;
  metrics: Metrics;
}

export { SECRET_HEADERS } from '../pipeline/process-request.js';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;
/** A client refused by the failure limit whose declared body is larger than this has its connection closed. */
const CLOSE_ABOVE_BYTES = 16 * 1024;
/**
 * A body of at most this many bytes is never refused for `server.maxBodyBytesInFlight` (its bytes still
 * count). why: the senders that never call again (Sensor Logger, MyDataHelps, Labvanced's six routes
 * other than /recordTrial) send small bodies, and a 503 would lose them; the memory at stake is in the
 * large ones (Labvanced trials up to 16 MiB, ActiGraph up to 1 MiB), whose senders retry.
 */
const ALWAYS_ADMITTED_BYTES = 256 * 1024;

/**
 * `unreferenced`: files written for this request that no event or quarantine record refers to yet
 * (removed if it fails). `namespace` and `events` are for the access line.
 */
type IngestContext = ErrorContext & {
  requestId: string;
  /** Body bytes this request holds of `server.maxBodyBytesInFlight`, given back when it is done. */
  reserved?: number;
  unreferenced?: readonly FileRef[] | undefined;
  namespace?: string;
  events?: readonly { id: string; type: string }[];
};

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
export function createIngestHandler(
  deps: IngestDeps,
  headers: Readonly<Record<string, string>> = {},
) {
  const { config, logger, metrics } = deps;
  const rateLimit = createRateLimiter(config.server.rateLimit);
  const failures = createFailureLimiter(config.server.verifyFailureLimit);
  const clientIp = createClientIp(config.server.trustProxy);
  const maxInFlight = config.server.maxBodyBytesInFlight ?? 0;
  /** Body bytes of the requests being read or worked on now (see {@link IngestContext.reserved}). */
  let inFlight = 0;

  async function run(
    req: IncomingMessage,
    res: ServerResponse,
    ctx: IngestContext,
    query: string | undefined,
  ): Promise<void> {
    const m = findRoute(ctx.path, deps.adapters, config.platforms);
    if ('error' in m) {
      // why: on a platform with browser-facing routes, a mistyped URL Path must show as a readable 404, not as a CORS error.
      if (m.adapter && m.platform && m.adapter.routes.some((r) => r.cors)) {
        if (req.method === 'OPTIONS') res.setHeader('X-Request-Id', ctx.requestId);
        // why: a preflight answered, so that the page gets to read the 404 of its request.
        if (applyCors(req, res, missOrigins(m.adapter, m.platform), ctx.base, false)) return;
      }
      throw m.error;
    }
    ctx.platform = m.platform;
    ctx.namespace = m.namespace;
    ctx.route = m.routeName || '/';
    const { route } = m;
    const ip = clientIp(req);
    if (route.cors) {
      if (req.method === 'OPTIONS') res.setHeader('X-Request-Id', ctx.requestId); // why: a preflight is answered inside applyCors
      if (applyCors(req, res, allowedOrigins(m.adapter, m.settings), ctx.base)) return; // preflight answered
      rateLimit(ip); // why: browser-facing routes are open to anyone's script; after CORS so a 429 is readable
    }
    const methods = route.methods ?? ['POST'];
    const method = req.method ?? 'GET';
    if (!methods.includes(method))
      throw new StudyhookError(
        'SH_METHOD_NOT_ALLOWED',
        `${method} is not accepted here (use ${methods.join(', ')})`,
        { headers: { Allow: methods.join(', ') } },
      );

    const verify = route.verify ?? m.adapter.verify;
    // why: before the body is read: a client whose requests keep failing verification gets no more of our CPU.
    // Counted per client and configured namespace, so that a sender failing on one namespace (a stale
    // secret) is not refused on the others; unlisted namespaces share the `*` count, so names cannot be
    // invented to get more tries.
    // Only on platforms that retry a refused call: for one that never retries (Sensor Logger, MyDataHelps)
    // a 429 to a valid call sharing its address with a failing sender would lose it, and their checks are cheap.
    const limited = verify !== undefined && m.adapter.retriesRefusedCalls === true;
    const failureKey = limited ? `${ip}\u001f${m.platform}\u001f${m.settingsKey}` : '';
    // why: a 429 leaves the body unread, and node receives and discards it to keep the connection: for a
    // large or undeclared body (up to ActiGraph's 1 MiB) the connection is dropped instead (below, in the
    // catch), so that a refusal does not cost more the bigger the body is; a small one keeps its connection.
    if (limited)
      failures.check(failureKey, !(Number(req.headers['content-length']) <= CLOSE_ABOVE_BYTES));

    const multipart = route.body === 'multipart';
    if (multipart && !isMultipart(req.headers['content-type']))
      throw new StudyhookError('SH_UNSUPPORTED_MEDIA_TYPE', 'Expected multipart/form-data');
    const limit =
      (typeof route.maxBytes === 'function' ? route.maxBytes(m.settings) : route.maxBytes) ??
      config.server.bodyLimitBytes;
    // why: a body costs about five times its size while it is read, decoded, parsed, hashed and
    // serialised, and each route's limit holds for one request only: 24 concurrent 16 MiB Labvanced
    // bodies (one address, within the rate limit's burst) took the process to 1.3 GB and /healthz to
    // 2.7 s, and more would end it out of memory. Bytes are counted as they arrive, not as declared,
    // so that a client declaring a large body and sending nothing holds none of the budget.
    const take =
      maxInFlight > 0
        ? (n: number): boolean => {
            const held = ctx.reserved ?? 0;
            if (held + n > ALWAYS_ADMITTED_BYTES && inFlight > held && inFlight + n > maxInFlight)
              return false;
            inFlight += n;
            ctx.reserved = held + n;
            return true;
          }
        : undefined;
    const body = multipart
      ? Buffer.alloc(0)
      : await readBody(req, limit, config.server.requestTimeoutMs, take);
    const incoming: IncomingRequest = {
      method,
      platform: m.platform,
      namespace: m.namespace,
      route: m.routeName,
      params: m.params,
      headers: req.headers as Record<string, string | undefined>,
      query: query ? (parseQuery(query) as Record<string, string>) : {},
      body,
      ip,
      requestId: ctx.requestId,
      receivedAt: new Date(),
    };
    let verified: Verified | undefined;
    if (verify) {
      const result = await verify(incoming, m.settings);
      if (!result) {
        if (limited) failures.failed(failureKey);
        throw new StudyhookError('SH_UNAUTHORIZED');
      }
      if (limited) failures.passed(failureKey);
      if (result !== true) verified = result;
    }

    const handshake = route.handshake?.(incoming, m.settings);
    if (handshake) {
      metrics.handshakes.inc({ platform: m.platform });
      logger.info(
        { requestId: ctx.requestId, platform: m.platform, namespace: m.namespace },
        'handshake answered',
      );
      writeReply(req, res, handshake, ctx.base, ctx.requestId);
      return;
    }

    const upload = multipart
      ? await parseMultipart(req, deps.blobs, {
          fileBytes: limit,
          files: 4,
          ...UPLOAD_FIELDS,
          stallMs: config.server.uploadStallTimeoutMs,
        })
      : undefined;
    const stored: FileRef[] = [...(upload?.stored ?? [])];
    ctx.unreferenced = stored;
    const bodySha256 = sha256Hex(body);
    const parsed = upload && { payload: upload.body, problems: upload.problems };
    const publish = publishStep(
      deps.publisher,
      deps.blobs,
      config.server.maxQueuedDataBytes,
      stored,
    );
    const result = await processRequest(
      {
        adapter: m.adapter,
        route,
        settings: m.settings,
        request: incoming,
        limits: config.server.parseLimits,
        bodySha256,
        ...(verified && { verified }),
        ...(parsed && { parsed }),
      },
      publish,
    );
    if ('published' in result) {
      ctx.unreferenced = undefined;
      const events = result.published.map((e) => ({
        id: e.event.id,
        type: e.event.type,
        data: e.event.data,
      }));
      ctx.events = events;
      writeReply(
        req,
        res,
        route.reply?.(events, incoming) ?? defaultReply(events),
        ctx.base,
        ctx.requestId,
      );
      return;
    }
    const { refused } = result;
    if (route.onInvalid !== 'quarantine') throw refused.error;
    const secrets = {
      headers: secretHeadersOf(m.adapter),
      params: m.adapter.secretParams ?? [],
      fields: m.adapter.secretFields ?? [],
    };
    await keepQuarantined(
      { dataDir: config.dataDir, blobs: deps.blobs, fileMode: config.fileMode },
      incoming,
      {
        reason: refused.reason,
        problems: refused.problems,
        bodysha256: bodySha256,
        ...(verified && { verified }),
        ...(parsed && { payload: parsed.payload }),
        ...(upload && { files: upload.stored }),
      },
      secrets,
    );
    // why: the upload's files are now referenced by the record; large data stored for events never published is not.
    await removeBlobs(
      deps.blobs,
      stored.filter((f) => !upload?.stored.includes(f)),
      logger,
    );
    ctx.unreferenced = undefined;
    metrics.quarantined.inc({ platform: m.platform, route: ctx.route });
    logger.warn(
      {
        requestId: ctx.requestId,
        platform: m.platform,
        namespace: m.namespace,
        route: m.routeName,
        reason: refused.reason,
        problems: refused.problems,
      },
      'payload quarantined',
    );
    const kept = new StudyhookError(
      'SH_INVALID_PAYLOAD',
      'Payload could not be used; it was kept in quarantine',
      { details: refused.problems },
    );
    writeReply(
      req,
      res,
      route.invalidReply?.(refused.problems, incoming) ?? errorReply(kept),
      ctx.base,
      ctx.requestId,
    );
  }

  /**
   * Request metric and access log line (for requests that reached a platform route), once the reply
   * is written. The line names the route pattern (`:token`), never a matched value, and the events
   * published, so a delivery can be traced back to its request.
   */
  function done(
    req: IncomingMessage,
    res: ServerResponse,
    ctx: IngestContext,
    start: bigint,
  ): void {
    const { platform } = ctx;
    metrics.countRequest(
      platform ?? 'none',
      platform === undefined ? 'other' : (ctx.route ?? '/'),
      res.statusCode,
    );
    if (platform === undefined) return;
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    const events = ctx.events ?? [];
    logger.info(
      {
        requestId: ctx.requestId,
        method: req.method ?? '',
        platform,
        namespace: ctx.namespace,
        route: ctx.route ?? '/',
        status: res.statusCode,
        ms: Math.round(ms * 10) / 10,
        types: [...new Set(events.map((e) => e.type))],
        events: events.map((e) => e.id),
      },
      'request',
    );
  }

  return function ingest(
    req: IncomingMessage,
    res: ServerResponse,
    path: string,
    query?: string,
  ): void {
    const start = process.hrtime.bigint();
    const given = req.headers['x-request-id'];
    const requestId = typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    const ctx: IngestContext = { requestId, path, base: headers };
    run(req, res, ctx, query)
      .catch(async (err: unknown) => {
        // why: `Connection: close` alone would still have node receive the unread body until the client stops
        // sending; dropping the socket once the reply is out spares that (failure limit, large bodies).
        if (err instanceof StudyhookError && err.headers['Connection'] === 'close')
          res.once('finish', () => {
            req.socket.destroy();
          });
        // why: before the reply, so a request answered with an error has left nothing behind.
        if (ctx.unreferenced) await removeBlobs(deps.blobs, ctx.unreferenced, logger);
        writeError(err, req, res, ctx, logger);
      })
      .finally(() => {
        if (ctx.reserved !== undefined) inFlight -= ctx.reserved;
        done(req, res, ctx, start);
      });
  };
}
