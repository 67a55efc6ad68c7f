import type { EventDraft, IncomingRequest } from '../../src/adapter/types.js';
import type { ActiGraphEvent } from '../../src/generated/actigraph-event.js';

type Body = Record<string, unknown>;

/** CentrePoint's event names (X-ActiGraph-Event) and the entity each becomes in `actigraph.<entity>.<action>`. */
// why: a Map, so an event header named like an Object.prototype member (`constructor`) is an unknown event, not a function.
const ENTITIES = new Map([
  ['upload', 'upload'],
  ['raw_processing_complete', 'raw_processing'],
  ['data_retrieval_complete', 'data_retrieval'],
  ['daily_statistics_complete', 'daily_statistics'],
  ['cp2_daily_statistics_complete', 'cp2_daily_statistics'],
]);

/** Lower-case token safe inside a CloudEvents type. */
function token(value: unknown, fallback: string): string {
  let text: string;
  // why: only `upload` has a schema; any other event's status may be any JSON, and String() throws on
  // an object whose toString and valueOf are not functions ({"toString":"x"}): a signed delivery was
  // answered 500 and kept nowhere.
  try {
    text = String(value ?? '');
  } catch {
    return fallback;
  }
  const t = text
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return t.slice(0, 64) || fallback;
}

/** Ids arrive as strings or integers: both become the same string. */
function id(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number'
    ? String(value).trim() || undefined
    : undefined;
}

/** why: the `…UTC` date-times carry no zone designator (upload_event.md); mark them as UTC. */
function utc(value: unknown): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  return /(Z|[+-]\d\d:?\d\d)$/i.test(value) ? value : `${value}Z`;
}

/** The action of a finished-pipeline event from its status field (`Completed`/`Error`, any case). */
function action(status: unknown): string {
  return status === undefined || status === null ? 'completed' : token(status, 'completed');
}

function describe(
  event: string,
  body: Body,
): {
  action: string;
  subject?: string | undefined;
  start?: string | undefined;
  end?: string | undefined;
} {
  switch (event) {
    case 'upload':
      return {
        action: token(body['status'], 'unknown'),
        subject: id(body['uploadId']),
        start: utc(body['firstEpochUTC']),
        end: utc(body['lastEpochUTC']),
      };
    case 'raw_processing_complete':
      return {
        action: action(body['status']),
        start: utc(body['min_event_timestamp']),
        end: utc(body['max_event_timestamp']),
      };
    case 'data_retrieval_complete':
      return { action: action(body['request_status']), subject: id(body['tracking_id']) };
    case 'daily_statistics_complete':
      return {
        action: 'completed',
        subject: id(body['id']),
        start: utc(body['firstEpochDateTimeUtc']),
        end: utc(body['lastEpochDateTimeUtc']),
      };
    case 'cp2_daily_statistics_complete':
      return { action: 'completed', subject: id(body['dayStatId']) };
    default:
      return { action: '' };
  }
}

/** Turns one verified, parsed and validated CentrePoint delivery into its event (pure). The route's verify has checked that X-ActiGraph-Event is there. */
export function normaliseActiGraph(req: IncomingRequest, body: ActiGraphEvent): EventDraft[] {
  const event = (req.headers['x-actigraph-event'] ?? '').trim().toLowerCase();
  const d = describe(event, body);
  const entity = ENTITIES.get(event);
  const type = entity ? `actigraph.${entity}.${d.action}` : `actigraph.${token(event, 'unknown')}`;
  const studyid = id(body['studyId'] ?? body['study_id']);
  const participantid = id(body['subjectId'] ?? body['subject_id']);
  const delivery = req.headers['x-actigraph-delivery']?.trim();
  // why: X-ActiGraph-Delivery is the documented idempotency key; without it, fall back to the payload's own identity.
  const key = delivery
    ? ['delivery', delivery]
    : event === 'upload'
      ? ['upload', id(body['studyId']) ?? '', id(body['uploadId']) ?? '', d.action]
      : undefined;
  const extensions: Record<string, string> = { actigraphevent: event };
  if (delivery) extensions['deliveryid'] = delivery;
  const webhook = req.headers['x-actigraph-webhook-id']?.trim();
  if (webhook) extensions['webhookid'] = webhook;
  if (typeof body['status'] === 'string') extensions['status'] = body['status'].toLowerCase();
  if (d.start) extensions['epochstart'] = d.start;
  if (d.end) extensions['epochend'] = d.end;
  return [
    {
      type,
      ...(key && { key }),
      ...(d.subject !== undefined && { subject: d.subject }),
      ...(studyid !== undefined && { studyid }),
      ...(participantid !== undefined && { participantid }),
      extensions,
      data: body,
    },
  ];
}
