import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from 'cors';
import type { Adapter } from '../adapter/types.js';
import type { ResolvedPlatform } from '../config/load-config.js';
import { StudyhookError } from '../errors.js';
import { normaliseOrigin } from './normalise-origin.js';

type Middleware = ReturnType<typeof cors>;

/** The origins a browser-facing route answers, normalised as browsers send them (normalise-origin.ts). */
export interface AllowedOrigins { any: boolean; origins: ReadonlySet<string> }

const METHODS = ['POST', 'OPTIONS'];
const HEADERS = ['Content-Type'];
const options = { methods: METHODS, allowedHeaders: HEADERS, maxAge: 600, optionsSuccessStatus: 204 };
// why: an echoed, listed origin may also carry credentials (a credentialed request needs both); `*` never may.
// why: built once: with static options the cors middleware runs synchronously; it ends preflights itself.
const anyOrigin = cors({ ...options, origin: '*', credentials: false });
const listedOrigin = cors({ ...options, origin: true, credentials: true });
const noOrigin = cors({ ...options, origin: false, credentials: true });

function toAllowed(entries: readonly string[]): AllowedOrigins {
  const origins = new Set<string>();
  for (const e of entries) { const n = normaliseOrigin(e); if ('origin' in n) origins.add(n.origin); }
  return { any: origins.has('*'), origins };
}

// why: settings objects live as long as the config; normalising their list once, not per request.
const bySettings = new WeakMap<object, AllowedOrigins>();

/** A namespace's allowed origins (the adapter's list for its settings), normalised. */
export function allowedOrigins(adapter: Adapter, settings: unknown): AllowedOrigins {
  const key = (settings ?? adapter) as object;
  let allowed = bySettings.get(key);
  if (!allowed) { allowed = toAllowed(adapter.allowedOrigins?.(settings) ?? []); bySettings.set(key, allowed); }
  return allowed;
}

const byPlatform = new WeakMap<ResolvedPlatform, AllowedOrigins>();

/**
 * The origins a platform's unknown route or namespace answers with CORS headers: its default list
 * and every configured namespace's. why: a mistyped URL Path otherwise shows in the page only as a
 * CORS error; with the headers the player can read the 404 and its message. A 404 carries no data.
 */
export function missOrigins(adapter: Adapter, platform: ResolvedPlatform): AllowedOrigins {
  let allowed = byPlatform.get(platform);
  if (!allowed) {
    const entries = [...(adapter.allowedOrigins?.({}) ?? []), ...Object.values(platform.namespaces).flatMap((s) => adapter.allowedOrigins?.(s) ?? [])];
    allowed = toAllowed(entries);
    byPlatform.set(platform, allowed);
  }
  return allowed;
}

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
  // why: the cors package sends these on preflights only; Labvanced's docs ask for them on every reply (labvanced.md "CORS").
  if (headers['Access-Control-Allow-Origin'] !== undefined) {
    headers['Access-Control-Allow-Methods'] = METHODS.join(', ');
    headers['Access-Control-Allow-Headers'] = HEADERS.join(', ');
  }
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
 * for the reply. An Origin outside `allowed` is refused with 403 and no CORS headers, or with
 * `refuse: false` (an unknown route's 404) just gets no CORS headers.
 */
export function applyCors(req: IncomingMessage, res: ServerResponse, allowed: AllowedOrigins, base: Readonly<Record<string, string>> = {}, refuse = true): Readonly<Record<string, string>> | undefined {
  const origin = req.headers.origin;
  const { any } = allowed;
  if (origin !== undefined && !any && !allowed.origins.has(origin)) {
    if (!refuse) return base;
    throw new StudyhookError('SH_FORBIDDEN_ORIGIN', `Origin ${origin.slice(0, 200)} is not allowed here (allowed: ${[...allowed.origins].join(', ') || 'none'})`);
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
