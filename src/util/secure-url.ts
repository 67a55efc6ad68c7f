import { StudyhookError } from '../errors.js';

const LOOPBACK = /^http:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?(\/|$)/i;

/**
 * Refuses a platform API URL that would carry a credential in clear: it must be https://, or
 * http:// on loopback (a local proxy; the tests' fake APIs). why: every call sends a token (and a
 * token request the client secret or a signed assertion); over plain HTTP anyone on the path reads
 * it. `what` names the setting in the error.
 */
export function assertSecureUrl(url: string, what: string): void {
  if (/^https:\/\//i.test(url) || LOOPBACK.test(url)) return;
  throw new StudyhookError(
    'SH_CONFIG_INVALID',
    `${what} must be an https:// URL (or http:// on loopback), since it carries credentials: ${url}`,
  );
}
