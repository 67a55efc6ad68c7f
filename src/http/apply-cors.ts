import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from 'cors';
import type { Adapter } from '../adapter/types.js';
import { StudyhookError } from '../errors.js';

const options = { methods: ['POST', 'OPTIONS'], allowedHeaders: ['Content-Type'], maxAge: 600, optionsSuccessStatus: 204 };
// why: an echoed, listed origin may also carry credentials (a credentialed request needs both); `*` never may.
// why: built once: with static options the cors middleware runs synchronously; it ends preflights itself.
const anyOrigin = cors({ ...options, origin: '*', credentials: false });
const listedOrigin = cors({ ...options, origin: true, credentials: true });
const noOrigin = cors({ ...options, origin: false, credentials: true });

/**
 * CORS for browser-facing routes, set before anything can fail so that error replies carry the
 * headers too (a browser that cannot read an error retries forever). Returns true when it answered
 * a preflight. An Origin outside the namespace's list is refused with 403 and no CORS headers.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, adapter: Adapter, settings: unknown): boolean {
  const allowed = adapter.allowedOrigins?.(settings) ?? [];
  const origin = req.headers.origin;
  const any = allowed.includes('*');
  if (origin !== undefined && !any && !allowed.includes(origin)) {
    throw new StudyhookError('SH_FORBIDDEN_ORIGIN', `Origin ${origin.slice(0, 200)} is not allowed here (allowed: ${allowed.join(', ') || 'none'})`);
  }
  (any ? anyOrigin : origin !== undefined ? listedOrigin : noOrigin)(req, res, () => undefined);
  return res.writableEnded;
}
