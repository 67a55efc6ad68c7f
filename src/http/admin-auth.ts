import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { StudyhookError } from '../errors.js';

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** The token from `Bearer <token>`, or the password of `Basic` (any user name: browsers ask for one). */
function presented(header: string): string | undefined {
  const bearer = /^Bearer\s+(.+)$/i.exec(header);
  if (bearer) return bearer[1]!.trim();
  const basic = /^Basic\s+(.+)$/i.exec(header);
  if (!basic) return undefined;
  const decoded = Buffer.from(basic[1]!.trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon < 0 ? undefined : decoded.slice(colon + 1);
}

/**
 * Guards an admin surface (/metrics, the dashboard): `Authorization: Bearer <admin.token>`, or Basic
 * with the token as password (what a browser sends).
 * Without a configured token the surface is disabled (404) rather than open; a wrong or missing
 * token is 401. Reuse it for any new admin route: `app.use('/admin', requireAdmin(config.admin.token))`.
 */
export function requireAdmin(token: string | undefined) {
  const expected = token === undefined ? undefined : digest(token);
  return function adminAuth(req: Request, _res: Response, next: NextFunction): void {
    if (!expected) { next(new StudyhookError('SH_NOT_FOUND', 'Admin surfaces are disabled: set admin.token in the config')); return; }
    const given = presented(req.headers.authorization ?? '');
    // why: hashing both sides gives equal-length buffers, so the compare is constant-time whatever the input.
    if (given === undefined || !timingSafeEqual(digest(given), expected)) {
      // why: a browser shows its own login box for Basic, so the dashboard needs no login page of ours.
      next(new StudyhookError('SH_UNAUTHORIZED', 'Admin token missing or wrong', { headers: { 'WWW-Authenticate': 'Basic realm="studyhook admin", charset="UTF-8"' } }));
      return;
    }
    next();
  };
}
