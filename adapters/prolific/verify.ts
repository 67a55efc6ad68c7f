import { createHmac, hash } from 'node:crypto';
import type { IncomingRequest } from '../../src/adapter/types.js';
import type { ProlificSettings } from '../../src/generated/prolific-settings.js';
import { equalsAny } from '../../src/verify/presets.js';
import { pythonJsonDumps } from './python-json.js';

/**
 * Largest body whose Python `json.dumps` form is rebuilt when the raw bytes do not verify.
 * why: rebuilding it is the costly part of refusing a forged request (measured here: 1.0 ms for
 * 16 KiB, 18 ms for 170 KiB, against 0.2 ms for the HMAC of 170 KiB; the review saw 35–110 ms), so a
 * forged body near the route's 256 KiB limit was expensive to refuse (issue #22, item 3). Documented
 * delivery bodies are 125–300 bytes (prolific.md, B1–B3 and the four event types); 16 KiB is fifty
 * times the largest. A larger body is checked over its raw bytes only.
 */
export const JSON_DUMPS_MAX_BYTES = 16 * 1024;

/** Which bytes a valid signature covered: the body as received, or its Python `json.dumps` form. */
export type SignedForm = 'raw' | 'json.dumps';

function matches(
  given: string,
  timestamp: string,
  body: Buffer | string,
  secrets: readonly string[],
): boolean {
  // why: the timestamp and the body fed to the HMAC one after the other, rather than copied into one buffer first.
  return equalsAny(
    given,
    secrets.map((key) => createHmac('sha256', key).update(timestamp).update(body).digest('base64')),
  );
}

/**
 * sha256 of the bytes a verified request's signature covered: its json.dumps form when that is what
 * matched, else the body as received. why: any spacing of the same JSON has one json.dumps form, so
 * a captured delivery resent with other spacing (or compact, when Prolific sent json.dumps output)
 * under a new X-Event-ID verifies again; keyed on the raw bytes it was delivered again. A body whose
 * raw bytes are json.dumps output gets the same hash either way, since json.dumps of it is itself.
 */
export function signedBodySha256(
  req: IncomingRequest,
  bodySha256: string,
  verified: Readonly<Record<string, string>>,
): string {
  if (verified['signedform'] !== 'json.dumps') return bodySha256;
  try {
    return hash('sha256', pythonJsonDumps(req.body.toString('utf8')));
  } catch {
    return bodySha256;
  }
}

/** Reads a UNIX timestamp header (seconds, fractional seconds, or milliseconds above 10^12) as milliseconds. */
export function timestampMs(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+(\.\d+)?$/.test(value.trim())) return undefined;
  const n = Number(value);
  const ms = n > 1e12 ? n : n * 1000;
  // why: a header of 20 digits is a well-formed number but no date (beyond ±8.64e15 ms); read as
  // absent rather than let `new Date(ms).toISOString()` throw on a request that is otherwise fine.
  return Math.abs(ms) <= 8.64e15 ? ms : undefined;
}

/**
 * Checks `X-Prolific-Request-Signature` = base64 HMAC-SHA256(secret, `X-Prolific-Request-Timestamp` + body)
 * against every configured secret; returns the form that matched, or undefined.
 */
export function prolificSignedForm(
  req: IncomingRequest,
  settings: ProlificSettings,
): SignedForm | undefined {
  const given = req.headers['x-prolific-request-signature'];
  const timestamp = req.headers['x-prolific-request-timestamp'];
  // why: nothing to check without them: refused before any HMAC is computed.
  if (!given || timestamp === undefined) return undefined;
  if (settings.timestampToleranceSeconds !== undefined) {
    const sent = timestampMs(timestamp);
    if (
      sent === undefined ||
      Math.abs(req.receivedAt.getTime() - sent) > settings.timestampToleranceSeconds * 1000
    )
      return undefined;
  }
  if (matches(given, timestamp, req.body, settings.secrets)) return 'raw';
  if (req.body.length > JSON_DUMPS_MAX_BYTES) return undefined;
  // why: Prolific's own example signs `timestamp + json.dumps(body)` of the parsed body, not the wire
  // bytes (docs: api-reference/webhooks/verifying; platforms/prolific.md open question 1).
  let python: string;
  try {
    python = pythonJsonDumps(req.body.toString('utf8'));
  } catch {
    return undefined;
  }
  return matches(given, timestamp, python, settings.secrets) ? 'json.dumps' : undefined;
}
