import { randomUUID } from 'node:crypto';
import type { EventDraft, IncomingRequest } from '../adapter/types.js';
import { buildEvent, sha256Hex, type Envelope } from '../event/build-event.js';

/**
 * An event studyhook itself records about a study (`studyhook.*`, e.g. an approval), filed under a
 * platform's namespace so that the archive keeps it beside that platform's events. Its id comes from
 * `draft.key`, so recording the same action twice publishes it once.
 */
export function studyhookEvent(platform: string, namespace: string, draft: EventDraft, what: string): Envelope {
  const body = Buffer.from(JSON.stringify(draft.data ?? null));
  const req: IncomingRequest = {
    method: 'STUDYHOOK', platform, namespace, route: '', params: {}, headers: {}, query: {},
    body, ip: '', requestId: randomUUID(), receivedAt: new Date(),
  };
  const env = buildEvent(draft, req, sha256Hex(body), new Set());
  env.request.path = `studyhook:${what}`;
  return env;
}
