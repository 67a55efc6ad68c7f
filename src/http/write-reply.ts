import type { IncomingMessage, ServerResponse } from 'node:http';
import { StudyhookError, errorReply } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Reply } from '../adapter/types.js';

/**
 * Writes a reply on a plain node response the way express's `res.send` would: objects as JSON
 * (`application/json; charset=utf-8`), strings as HTML, Buffers as octet-stream unless the reply
 * names a Content-Type, and always a Content-Length. `base` headers (helmet's) and the request id
 * are set first, so that the reply's own headers replace any of the same name, whatever the case;
 * headers already on the response (CORS) stay.
 */
export function writeReply(
  req: IncomingMessage,
  res: ServerResponse,
  reply: Reply,
  base?: Readonly<Record<string, string>>,
  requestId?: string,
): void {
  const { body } = reply;
  let payload: string | Buffer | undefined;
  let type: string | undefined;
  if (body === undefined) payload = undefined;
  else if (Buffer.isBuffer(body)) {
    payload = body;
    type = 'application/octet-stream';
  } else if (typeof body === 'string') {
    payload = body;
    type = 'text/html; charset=utf-8';
  } else {
    payload = JSON.stringify(body);
    type = 'application/json; charset=utf-8';
  }
  for (const k in base) res.setHeader(k, base[k]!);
  if (requestId !== undefined) res.setHeader('X-Request-Id', requestId);
  for (const k in reply.headers) res.setHeader(k, reply.headers[k]!);
  // why: only the reply's own headers (or ones already set on the response) can name a type; `base` never does.
  if (type && !res.hasHeader('content-type')) res.setHeader('Content-Type', type);
  if (payload !== undefined) res.setHeader('Content-Length', String(Buffer.byteLength(payload)));
  res.writeHead(reply.status);
  res.end(req.method === 'HEAD' ? undefined : payload);
}

/** Where a failed request was going: the route pattern for platform routes, else the path. */
export interface ErrorContext {
  requestId?: string | undefined;
  platform?: string | undefined;
  route?: string | undefined;
  path: string;
  /** Headers not set on the response yet (helmet's), for {@link writeReply}'s `base`. */
  base?: Readonly<Record<string, string>> | undefined;
}

/**
 * The one error reply, for the platform routes and the express ops routes alike: the fixed JSON
 * body `{statusCode, code, error, message, details?}`; a 5xx is logged with its cause, never echoed.
 */
export function writeError(
  err: unknown,
  req: IncomingMessage,
  res: ServerResponse,
  ctx: ErrorContext,
  logger: Logger,
): void {
  const known =
    err instanceof StudyhookError
      ? err
      : (err as { type?: string } | undefined)?.type === 'entity.too.large'
        ? new StudyhookError('SH_BODY_TOO_LARGE')
        : undefined;
  const reply = errorReply(known ?? err);
  const { body } = reply;
  // why: a matched path may hold a secret (MyDataHelps' URL token); log the route pattern (':token') instead.
  const where =
    ctx.platform === undefined ? { path: ctx.path } : { platform: ctx.platform, route: ctx.route };
  if (body.statusCode >= 500) {
    logger.error(
      {
        requestId: ctx.requestId,
        method: req.method,
        ...where,
        code: body.code,
        err: known?.cause ?? err,
      },
      body.code === 'SH_QUEUE_UNAVAILABLE' ? 'event store unavailable' : 'request failed',
    );
  }
  if (res.headersSent) {
    res.destroy();
    return;
  }
  writeReply(req, res, reply, ctx.base, ctx.requestId);
}
