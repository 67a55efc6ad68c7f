import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingRequest } from '../adapter/types.js';

/** A yes/no check of a request: a verifier that establishes nothing beyond yes or no. */
export type Check<S> = (req: IncomingRequest, settings: S) => boolean | Promise<boolean>;

/** Constant-time string comparison (lengths may differ without leaking where). */
export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  if (x.length !== y.length) {
    timingSafeEqual(x, x);
    return false;
  }
  return timingSafeEqual(x, y);
}

/** True when `value` equals any of `candidates`, compared in constant time. */
export function equalsAny(value: string, candidates: readonly string[]): boolean {
  let hit = false;
  for (const c of candidates) hit = safeEqual(value, c) || hit;
  return hit;
}

/** Base64 or hex HMAC of a message. */
export function hmac(
  algo: 'sha256' | 'sha1' | 'sha512',
  key: string | Buffer,
  message: Buffer | string,
  encoding: 'base64' | 'hex',
): string {
  return createHmac(algo, key).update(message).digest(encoding);
}

/** Preset: HMAC over (a function of) the raw body, compared with a header. `secrets` lists the accepted keys. */
export function hmacVerifier<S>(opts: {
  header: string;
  algo?: 'sha256' | 'sha1' | 'sha512';
  encoding?: 'base64' | 'hex';
  prefix?: string;
  secrets: (settings: S) => readonly string[];
  message?: (req: IncomingRequest) => Buffer | string;
  /** Also accept the HMAC of the body without a leading UTF-8 BOM (tried first) when the body has one. */
  stripBom?: boolean;
}): Check<S> {
  return (req, settings) => {
    const given = req.headers[opts.header];
    if (!given) return false;
    const value = opts.prefix
      ? given.startsWith(opts.prefix)
        ? given.slice(opts.prefix.length)
        : ''
      : given;
    const message = opts.message ? opts.message(req) : req.body;
    const messages =
      opts.stripBom && Buffer.isBuffer(message) && hasBom(message)
        ? [message.subarray(3), message]
        : [message];
    return opts
      .secrets(settings)
      .reduce(
        (ok, key) =>
          messages.reduce(
            (hit, m) =>
              safeEqual(value, hmac(opts.algo ?? 'sha256', key, m, opts.encoding ?? 'base64')) ||
              hit,
            false,
          ) || ok,
        false,
      );
  };
}

/** True when the bytes start with a UTF-8 byte order mark (EF BB BF). */
export function hasBom(body: Buffer): boolean {
  return body.length >= 3 && body[0] === 0xef && body[1] === 0xbb && body[2] === 0xbf;
}

/** Preset: the request's source IP (after `server.trustProxy`) must be one of `ips`; IPv4-mapped IPv6 addresses match their IPv4 form. */
export function ipAllowVerifier<S>(ips: (settings: S) => readonly string[]): Check<S> {
  return (req, settings) => {
    const ip = req.ip.startsWith('::ffff:') ? req.ip.slice(7) : req.ip;
    return ips(settings).some(
      (allowed) => (allowed.startsWith('::ffff:') ? allowed.slice(7) : allowed) === ip,
    );
  };
}

/** Preset: Basic auth against `user:password` pairs. */
export function basicVerifier<S>(
  credentials: (settings: S) => readonly { username: string; password: string }[],
): Check<S> {
  return (req, settings) => {
    const h = req.headers['authorization'] ?? '';
    if (!h.toLowerCase().startsWith('basic ')) return false;
    const given = Buffer.from(h.slice(6).trim(), 'base64').toString('utf8');
    return equalsAny(
      given,
      credentials(settings).map((c) => `${c.username}:${c.password}`),
    );
  };
}

/** Preset: a bearer token (Authorization header) against the accepted tokens. */
export function bearerVerifier<S>(tokens: (settings: S) => readonly string[]): Check<S> {
  return (req, settings) => {
    const h = req.headers['authorization'] ?? '';
    return h.toLowerCase().startsWith('bearer ') && equalsAny(h.slice(7).trim(), tokens(settings));
  };
}

/** Preset: accept everything (platforms that sign nothing). */
export const noneVerifier: Check<unknown> = () => true;
