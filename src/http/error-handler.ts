import type { NextFunction, Request, Response } from 'express';
import { StudyhookError, errorBody } from '../errors.js';
import type { Logger } from '../log/logger.js';

/** The one error handler: a fixed JSON body; 5xx are logged with their cause, never echoed. */
export function createErrorHandler(logger: Logger) {
  return function handleError(err: unknown, req: Request, res: Response, _next: NextFunction): void {
    const known = err instanceof StudyhookError ? err
      : (err as { type?: string }).type === 'entity.too.large' ? new StudyhookError('SH_BODY_TOO_LARGE') : undefined;
    const body = errorBody(known ?? err);
    // why: a matched path may hold a secret (MyDataHelps' URL token); log the route pattern (':token') instead.
    const where = res.locals['platform'] === undefined ? { path: req.path } : { platform: res.locals['platform'], route: res.locals['route'] };
    const log = { requestId: res.locals['requestId'], method: req.method, ...where, code: body.code, err: known?.cause ?? err };
    if (body.statusCode >= 500) logger.error(log, body.code === 'SH_QUEUE_UNAVAILABLE' ? 'event store unavailable' : 'request failed');
    if (res.headersSent) { res.destroy(); return; }
    for (const [k, v] of Object.entries(known?.headers ?? {})) res.setHeader(k, v);
    res.status(body.statusCode).type('application/json').send(JSON.stringify(body));
  };
}
