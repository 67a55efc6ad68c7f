import type { IncomingRequest } from '../../src/adapter/types.js';
import type { ProlificSettings } from '../../src/generated/prolific-settings.js';
import { equalsAny, hmac } from '../../src/verify/presets.js';
import { pythonJsonDumps } from './python-json.js';

/** Which bytes a valid signature covered: the body as received, or its Python `json.dumps` form. */
export type SignedForm = 'raw' | 'json.dumps';

function matches(given: string, timestamp: string, body: Buffer | string, secrets: readonly string[]): boolean {
  const message = Buffer.concat([Buffer.from(timestamp, 'utf8'), Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8')]);
  return equalsAny(given, secrets.map((key) => hmac('sha256', key, message, 'base64')));
}

/** Reads a UNIX timestamp header (seconds, fractional seconds, or milliseconds above 10^12) as milliseconds. */
export function timestampMs(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d+(\.\d+)?$/.test(value.trim())) return undefined;
  const n = Number(value);
  return n > 1e12 ? n : n * 1000;
}

/**
 * Checks `X-Prolific-Request-Signature` = base64 HMAC-SHA256(secret, `X-Prolific-Request-Timestamp` + body)
 * against every configured secret; returns the form that matched, or undefined.
 */
export function prolificSignedForm(req: IncomingRequest, settings: ProlificSettings): SignedForm | undefined {
  const given = req.headers['x-prolific-request-signature'];
  const timestamp = req.headers['x-prolific-request-timestamp'];
  if (!given || timestamp === undefined) return undefined;
  if (settings.timestampToleranceSeconds !== undefined) {
    const sent = timestampMs(timestamp);
    if (sent === undefined || Math.abs(req.receivedAt.getTime() - sent) > settings.timestampToleranceSeconds * 1000) return undefined;
  }
  if (matches(given, timestamp, req.body, settings.secrets)) return 'raw';
  // why: Prolific's own example signs `timestamp + json.dumps(body)` of the parsed body, not the wire
  // bytes (docs: api-reference/webhooks/verifying; platforms/prolific.md open question 1).
  let python: string;
  try { python = pythonJsonDumps(req.body.toString('utf8')); } catch { return undefined; }
  return matches(given, timestamp, python, settings.secrets) ? 'json.dumps' : undefined;
}
