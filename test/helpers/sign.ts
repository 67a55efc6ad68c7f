import { adapters } from '../../adapters/index.js';
import type { SampleRequest } from '../../src/adapter/sample.js';

/** `req` signed by the platform's own sample signer (adapters/<platform>/sample.ts), the one `studyhook sample` and the bench use. */
function signWith(
  platform: string,
  req: SampleRequest,
  settings: Record<string, unknown>,
): Record<string, string> {
  const sign = adapters.find((a) => a.platform === platform)?.sample?.sign;
  if (!sign) throw new Error(`adapter '${platform}' has no sample signer`);
  return sign(req, settings).headers;
}

/** X-Prolific-Request-Signature of `body` sent with `timestamp`, signed with `secret`. */
export function prolificSignature(
  secret: string,
  timestamp: string,
  body: string | Buffer,
): string {
  const req = {
    method: 'POST',
    path: '/',
    headers: { 'x-prolific-request-timestamp': timestamp },
    body: Buffer.from(body),
  };
  return signWith('prolific', req, { secrets: [secret] })['x-prolific-request-signature']!;
}

/** X-ActiGraph-Signature of `body` with the HMAC passcode `passcode`. */
export function actigraphSignature(passcode: string, body: string | Buffer): string {
  return signWith(
    'actigraph',
    { method: 'POST', path: '/', headers: {}, body: Buffer.from(body) },
    { auth: 'hmac', passcodes: [passcode] },
  )['x-actigraph-signature']!;
}
