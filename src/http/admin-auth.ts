import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { StudyhookError } from '../errors.js';
import type { Logger } from '../log/logger.js';

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Who presented what: `Bearer <token>`, or the user and password of `Basic` (any user name: browsers ask for one). */
function presented(
  header: string,
): { scheme: 'bearer' | 'basic'; user?: string; secret: string } | undefined {
  const bearer = /^Bearer\s+(.+)$/i.exec(header);
  if (bearer) return { scheme: 'bearer', secret: bearer[1]!.trim() };
  const basic = /^Basic\s+(.+)$/i.exec(header);
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1]!.trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0
    ? undefined
    : { scheme: 'basic', user: decoded.slice(0, colon), secret: decoded.slice(colon + 1) };
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * Guards an admin surface (/metrics, the dashboard): `Authorization: Bearer <admin.token>`, or Basic
 * with the token as password (what a browser sends).
 * Without a configured token the surface is disabled (404) rather than open; a wrong or missing
 * token is 401. Reuse it for any new admin route: `app.use('/admin', requireAdmin(config.admin.token, logger))`.
 *
 * A request that changes something (any method but GET, HEAD, OPTIONS) authenticated with Basic must
 * come from a page of the same origin (`Sec-Fetch-Site: same-origin`), else 403. why: a browser
 * attaches the Basic credentials it remembers to a request another site's form or fetch makes
 * (issue #22, item 6), but it sets `Sec-Fetch-Site` itself, and no page can forge it. The
 * dashboard's own buttons send it; scripts use the Bearer header, which no browser adds by itself.
 * Every such write is logged (method, path, status, scheme, Basic user name, address; never the token).
 */
export function requireAdmin(token: string | undefined, logger?: Logger) {
  const expected = token === undefined ? undefined : digest(token);
  return function adminAuth(req: Request, res: Response, next: NextFunction): void {
    if (!expected) {
      next(
        new StudyhookError(
          'SH_NOT_FOUND',
          'Admin surfaces are disabled: set admin.token in the config',
        ),
      );
      return;
    }
    const given = presented(req.headers.authorization ?? '');
    // why: hashing both sides gives equal-length buffers, so the compare is constant-time whatever the input.
    if (given === undefined || !timingSafeEqual(digest(given.secret), expected)) {
      // why: a browser shows its own login box for Basic, so the dashboard needs no login page of ours.
      next(
        new StudyhookError('SH_UNAUTHORIZED', 'Admin token missing or wrong', {
          headers: { 'WWW-Authenticate': 'Basic realm="studyhook admin", charset="UTF-8"' },
        }),
      );
      return;
    }
    if (SAFE_METHODS.has(req.method)) {
      next();
      return;
    }
    const fetchSite = req.headers['sec-fetch-site'];
    const who = {
      method: req.method,
      path: req.originalUrl.split('?')[0],
      auth: given.scheme,
      ...(given.user !== undefined && { user: given.user.slice(0, 64) }),
      ip: req.ip,
      fetchSite,
    };
    if (given.scheme === 'basic' && fetchSite !== 'same-origin') {
      logger?.warn({ admin: who }, "admin write refused: not from the dashboard's own page");
      next(
        new StudyhookError(
          'SH_FORBIDDEN_ORIGIN',
          'Admin changes with browser credentials must come from the dashboard itself; scripts send Authorization: Bearer <admin.token>',
        ),
      );
      return;
    }
    res.on('finish', () => {
      logger?.info({ admin: { ...who, status: res.statusCode } }, 'admin write');
    });
    next();
  };
}
