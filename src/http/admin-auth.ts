import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { StudyhookError } from '../errors.js';

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/**
 * Guards an admin surface (/metrics, dashboards, replay): `Authorization: Bearer <admin.token>`.
 * Without a configured token the surface is disabled (404) rather than open; a wrong or missing
 * token is 401. Reuse it for any new admin route: `app.use('/admin', requireAdmin(config.admin.token))`.
 */
export function requireAdmin(token: string | undefined) {
  const expected = token === undefined ? undefined : digest(token);
  return function adminAuth(req: Request, _res: Response, next: NextFunction): void {
    if (!expected) { next(new StudyhookError('SH_NOT_FOUND', 'Admin surfaces are disabled: set admin.token in the config')); return; }
    const m = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
    // why: hashing both sides gives equal-length buffers, so the compare is constant-time whatever the input.
    if (!m || !timingSafeEqual(digest(m[1]!.trim()), expected)) { next(new StudyhookError('SH_UNAUTHORIZED', 'Admin token missing or wrong', { headers: { 'WWW-Authenticate': 'Bearer' } })); return; }
    next();
  };
}
