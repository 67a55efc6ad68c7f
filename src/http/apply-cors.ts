import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from 'cors';
import type { Adapter } from '../adapter/types.js';
import { StudyhookError } from '../errors.js';

type Middleware = ReturnType<typeof cors>;

const options = { methods: ['POST', 'OPTIONS'], allowedHeaders: ['Content-Type'], maxAge: 600, optionsSuccessStatus: 204 };
// why: an echoed, listed origin may also carry credentials (a credentialed request needs both); `*` never may.
// why: built once: with static options the cors middleware runs synchronously; it ends preflights itself.
const anyOrigin = cors({ ...options, origin: '*', credentials: false });
const listedOrigin = cors({ ...options, origin: true, credentials: true });
const noOrigin = cors({ ...options, origin: false, credentials: true });

/**
 * The headers the cors middleware sets on an actual (not preflight) request, recorded instead of
 * set. why: they then go out in the reply's one writeHead with the other headers; a setHeader for
 * each of them and of helmet's cost ~40k instructions per request (bench `--instructions`).
 */
function recorded(mw: Middleware, req: IncomingMessage, base: Readonly<Record<string, string>>): Record<string, string> {
  const headers: Record<string, string> = { ...base };
  const res = { getHeader: (k: string) => headers[k], setHeader: (k: string, v: unknown) => { headers[k] = String(v); } };
  let ran = false;
  mw(req, res as unknown as ServerResponse, () => { ran = true; });
  if (!ran) throw new Error('the cors middleware did not run synchronously');
  return Object.freeze(headers);
}

// why: with static options, what the middleware sets on an actual request depends only on which of
// the three it is and on the Origin it echoes (a listed one: a bounded set). Recording it costs
// ~4 µs per request (bench --profile, line ticks); a lookup a fraction of that. Keyed by `base` too,
// which is the same shared object for every request of a process.
const seen = new WeakMap<object, Map<string, Readonly<Record<string, string>>>>();

function corsHeaders(mw: Middleware, key: string, req: IncomingMessage, base: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  let byKey = seen.get(base);
  if (!byKey) { byKey = new Map(); seen.set(base, byKey); }
  let headers = byKey.get(key);
  if (!headers) { headers = recorded(mw, req, base); byKey.set(key, headers); }
  return headers;
}

/**
 * CORS for browser-facing routes, decided before anything can fail so that error replies carry the
 * headers too (a browser that cannot read an error retries forever). A preflight is answered here
 * (with `base` on it too) and gives undefined; any other request gives `base` plus the CORS headers,
 * for the reply. An Origin outside the namespace's list is refused with 403 and no CORS headers.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, adapter: Adapter, settings: unknown, base: Readonly<Record<string, string>> = {}): Readonly<Record<string, string>> | undefined {
  const allowed = adapter.allowedOrigins?.(settings) ?? [];
  const origin = req.headers.origin;
  const any = allowed.includes('*');
  if (origin !== undefined && !any && !allowed.includes(origin)) {
    throw new StudyhookError('SH_FORBIDDEN_ORIGIN', `Origin ${origin.slice(0, 200)} is not allowed here (allowed: ${allowed.join(', ') || 'none'})`);
  }
  const mw = any ? anyOrigin : origin !== undefined ? listedOrigin : noOrigin;
  // why: `*` answers every Origin alike, so it is not part of the key (no caller can grow the map).
  if (req.method !== 'OPTIONS') return corsHeaders(mw, any ? '*' : origin !== undefined ? `=${origin}` : '', req, base);
  for (const k in base) res.setHeader(k, base[k]!);
  mw(req, res, () => undefined);
  // why: an OPTIONS the middleware does not end (one without an Origin, on a route that does not allow
  // '*') goes on to the method check and its 405; the base headers are already on the response.
  return res.writableEnded ? undefined : {};
}
