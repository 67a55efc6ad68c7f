import type { IncomingMessage, ServerResponse } from 'node:http';
import cors from 'cors';
import type { Adapter } from '../adapter/types.js';
import type { ResolvedPlatform } from '../config/load-config.js';
import { StudyhookError } from '../errors.js';
import { normaliseOrigin } from './normalise-origin.js';

/** The origins a browser-facing route answers, normalised as browsers send them (normalise-origin.ts). */
export interface AllowedOrigins {
  any: boolean;
  origins: ReadonlySet<string>;
}

const METHODS = ['POST', 'OPTIONS'];
const HEADERS = ['Content-Type'];
const options = {
  methods: METHODS,
  allowedHeaders: HEADERS,
  maxAge: 600,
  optionsSuccessStatus: 204,
};
// why: an echoed, listed origin may also carry credentials (a credentialed request needs both); `*` never may.
const anyOrigin = cors({ ...options, origin: '*', credentials: false });
const listedOrigin = cors({ ...options, origin: true, credentials: true });
const noOrigin = cors({ ...options, origin: false, credentials: true });

function toAllowed(entries: readonly string[]): AllowedOrigins {
  const origins = new Set<string>();
  for (const e of entries) {
    const n = normaliseOrigin(e);
    if ('origin' in n) origins.add(n.origin);
  }
  return { any: origins.has('*'), origins };
}

// why: settings objects live as long as the config; normalising their list once, not per request.
const bySettings = new WeakMap<object, AllowedOrigins>();

/** A namespace's allowed origins (the adapter's list for its settings), normalised. */
export function allowedOrigins(adapter: Adapter, settings: unknown): AllowedOrigins {
  const key = (settings ?? adapter) as object;
  let allowed = bySettings.get(key);
  if (!allowed) {
    allowed = toAllowed(adapter.allowedOrigins?.(settings) ?? []);
    bySettings.set(key, allowed);
  }
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
    const entries = [
      ...(adapter.allowedOrigins?.({}) ?? []),
      ...Object.values(platform.namespaces).flatMap((s) => adapter.allowedOrigins?.(s) ?? []),
    ];
    allowed = toAllowed(entries);
    byPlatform.set(platform, allowed);
  }
  return allowed;
}

/**
 * CORS for browser-facing routes, decided before anything can fail so that error replies carry the
 * headers too (a browser that cannot read an error retries forever). The headers are set on the
 * response. A preflight is answered here (with `base` on it too): true is returned, and the caller
 * is done. An Origin outside `allowed` is refused with 403 and no CORS headers, or with
 * `refuse: false` (an unknown route's 404) just gets no CORS headers.
 */
export function applyCors(
  req: IncomingMessage,
  res: ServerResponse,
  allowed: AllowedOrigins,
  base: Readonly<Record<string, string>> = {},
  refuse = true,
): boolean {
  const origin = req.headers.origin;
  const { any } = allowed;
  if (origin !== undefined && !any && !allowed.origins.has(origin)) {
    if (!refuse) return false;
    throw new StudyhookError(
      'SH_FORBIDDEN_ORIGIN',
      `Origin ${origin.slice(0, 200)} is not allowed here (allowed: ${[...allowed.origins].join(', ') || 'none'})`,
    );
  }
  const mw = any ? anyOrigin : origin !== undefined ? listedOrigin : noOrigin;
  if (req.method === 'OPTIONS') for (const k in base) res.setHeader(k, base[k]!);
  // why: with static options the cors middleware runs synchronously; it ends preflights itself.
  mw(req, res, () => undefined);
  if (req.method === 'OPTIONS') {
    // why: an OPTIONS the middleware does not end (one without an Origin, on a route that does not allow
    // '*') goes on to the method check and its 405.
    return res.writableEnded;
  }
  // why: the cors package sends these on preflights only; Labvanced's docs ask for them on every reply (labvanced.md "CORS").
  if (res.hasHeader('Access-Control-Allow-Origin')) {
    res.setHeader('Access-Control-Allow-Methods', METHODS.join(', '));
    res.setHeader('Access-Control-Allow-Headers', HEADERS.join(', '));
  }
  return false;
}
