import { randomBytes } from 'node:crypto';
import { samplePath, type PlatformSample, type SampleRequest } from '../../src/adapter/sample.js';
import type { ProlificSettings } from '../../src/generated/prolific-settings.js';
import { hmac } from '../../src/verify/presets.js';

/** The event types with a documented payload (docs: api-reference/webhooks/receiving). */
export const PROLIFIC_EVENT_TYPES = [
  'submission.status.change',
  'study.status.change',
  'study.progress.change',
  'study.has_high_return_rate',
] as const;

const id = (): string => randomBytes(12).toString('hex');

/** The body Prolific sends for `event` (prolific.md, "Payloads"); `status` where the event has one. */
function payload(event: string, status: string | undefined): Record<string, unknown> {
  switch (event) {
    case 'submission.status.change':
      return {
        event_type: event,
        resource_id: id(),
        participant_id: id(),
        study_id: id(),
        status: status ?? 'AWAITING REVIEW',
      };
    case 'study.status.change':
      return { event_type: event, resource_id: id(), metadata: {}, status: status ?? 'ACTIVE' };
    case 'study.has_high_return_rate':
      return {
        event_type: event,
        resource_id: id(),
        metadata: {},
        ...(status !== undefined && { status }),
      };
    default:
      return { event_type: event, resource_id: id(), ...(status !== undefined && { status }) };
  }
}

/** Prolific's signature: base64 HMAC-SHA256(secret, `X-Prolific-Request-Timestamp` + body), with the namespace's first secret. */
function sign(req: SampleRequest, settings: Pick<ProlificSettings, 'secrets'>): SampleRequest {
  const timestamp =
    req.headers['x-prolific-request-timestamp'] ?? String(Math.floor(Date.now() / 1000));
  const secret = settings.secrets[0] ?? 'sample-secret';
  const signature = hmac(
    'sha256',
    secret,
    Buffer.concat([Buffer.from(timestamp), req.body]),
    'base64',
  );
  return {
    ...req,
    headers: {
      ...req.headers,
      'x-prolific-request-timestamp': timestamp,
      'x-prolific-request-signature': signature,
    },
  };
}

/** Prolific deliveries of the four documented event types, signed as Prolific signs them. */
export const prolificSample: PlatformSample<ProlificSettings> = {
  routes: [''],
  events: PROLIFIC_EVENT_TYPES,
  build({ route, namespace, settings, event = PROLIFIC_EVENT_TYPES[0], status, body }) {
    const timestamp = String(Math.floor(Date.now() / 1000));
    return sign(
      {
        method: 'POST',
        path: samplePath('prolific', namespace, route),
        label: event,
        body: body ?? Buffer.from(JSON.stringify(payload(event, status))),
        headers: {
          'content-type': 'application/json',
          'x-event-id': id(),
          'x-timestamp': timestamp,
          'x-prolific-request-timestamp': timestamp,
        },
      },
      settings,
    );
  },
  sign,
};
