import { randomUUID } from 'node:crypto';
import { buildEvent, sha256Hex, type Envelope } from '../event/build-event.js';
import type { EventDraft } from '../event/draft.js';

/**
 * An event studyhook itself records about a study (`studyhook.*`, e.g. an approval), filed under a
 * platform's namespace so that the archive keeps it beside that platform's events. Its id comes from
 * `draft.key`, so recording the same action twice publishes it once.
 */
export function studyhookEvent(
  platform: string,
  namespace: string,
  draft: EventDraft,
  what: string,
): Envelope {
  const body = Buffer.from(JSON.stringify(draft.data ?? null));
  const origin = { platform, namespace, requestId: randomUUID(), receivedAt: new Date() };
  return buildEvent(draft, origin, sha256Hex(body), {
    method: 'STUDYHOOK',
    path: `studyhook:${what}`,
    headers: {},
    bodySize: body.length,
    ip: '',
  });
}
