import { hash, randomUUID } from 'node:crypto';
import type { StudyhookEvent } from '../generated/event.js';
import type { EventDraft } from './draft.js';

export type { StudyhookEvent };

/** The raw request an event came from, minus secret headers. The body itself is linked by `event.bodysha256`. */
export interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  bodySize: number;
  ip: string;
}

/** Where an event comes from: its platform and namespace, the request (or action) that made it, and when that arrived. */
export interface EventOrigin {
  platform: string;
  namespace: string;
  requestId: string;
  receivedAt: Date;
}

/** The event with what travels beside it on the queue (never archived as part of the event). */
export interface Envelope {
  event: StudyhookEvent;
  request: RawRequest;
  secrets?: Record<string, string>;
  /**
   * Hash of what a signed request's signature covered (signature, timestamp, body): the same signed
   * request resent under another event id is recognised as a replay and not delivered again.
   */
  replay?: string;
}

/** The RFC 9562 variant nibble (binary 10xx) for each hex digit: its two low bits kept. */
const VARIANT = '89ab89ab89ab89ab';

/**
 * A name-based UUID from the parts joined by U+001F (built in a loop: this runs for every keyed
 * event): the first 128 bits of their sha256, with version 5 and the RFC 9562 variant set.
 *
 * why version 5 rather than 8: a strict validator that knows only RFC 4122 accepts versions 1–5,
 * and an id of the old form whose variant nibble was already 8–b keeps its value. Before 2026-12
 * the variant was not set (3 of 4 ids failed strict validation); what the id is derived from did not
 * change, so the same parts still give the same id (docs/configuring.md, "The event").
 */
export function hashId(first: string, parts: readonly (string | number)[]): string {
  let joined = first;
  for (const p of parts) joined += `\u001f${p}`;
  const h = hash('sha256', joined);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${VARIANT[parseInt(h[16]!, 16)]}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The id BullMQ and the dedup keys use: short, never integer-like, never with ':'. */
export function jobIdOf(eventId: string): string {
  return `e${hash('sha256', eventId).slice(0, 40)}`;
}

export function sha256Hex(body: Buffer): string {
  return hash('sha256', body);
}

/** Turns an adapter's draft into a CloudEvents 1.0 event with studyhook's extensions; `request` travels beside it. */
export function buildEvent(
  draft: EventDraft,
  origin: EventOrigin,
  bodySha256: string,
  request: RawRequest,
): Envelope {
  const receivedat = origin.receivedAt.toISOString();
  const id =
    draft.id ??
    (draft.key
      ? hashId(`${origin.platform}\u001f${origin.namespace}\u001f${draft.type}`, draft.key)
      : randomUUID());
  // why: assigned one by one rather than spread from temporary objects: this runs for every event.
  const event = {
    specversion: '1.0',
    id,
    source: `/${origin.platform}/${origin.namespace}`,
    type: draft.type,
    time: draft.time ?? receivedat,
    datacontenttype: 'application/json',
    platform: origin.platform,
    namespace: origin.namespace,
    receivedat,
    bodysha256: bodySha256,
    requestid: origin.requestId,
  } as StudyhookEvent;
  if (draft.subject !== undefined) event.subject = draft.subject;
  if (draft.studyid !== undefined) event.studyid = draft.studyid;
  if (draft.participantid !== undefined) event.participantid = draft.participantid;
  if (draft.sessionid !== undefined) event.sessionid = draft.sessionid;
  if (draft.extensions) Object.assign(event, draft.extensions);
  event.data = draft.data;
  return draft.secrets ? { event, request, secrets: draft.secrets } : { event, request };
}
