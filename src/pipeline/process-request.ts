import { hash } from 'node:crypto';
import type { Adapter, IncomingRequest, RouteSpec, Verified } from '../adapter/types.js';
import { StudyhookError } from '../errors.js';
import { buildEvent, type Envelope, type RawRequest } from '../event/build-event.js';
import { parseBody } from '../http/parse-body.js';
import type { ParseLimits } from '../http/parse-limits.js';
import type { QuarantineReason } from '../quarantine/quarantine.js';
import { validatePayload, type SchemaProblem } from '../schemas.js';

/** Header names never logged nor kept, whatever the adapter says. */
export const SECRET_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];

const secretHeaderSets = new WeakMap<Adapter, ReadonlySet<string>>();

/** The adapter's secret headers plus {@link SECRET_HEADERS}. */
export function secretHeadersOf(adapter: Adapter): ReadonlySet<string> {
  let set = secretHeaderSets.get(adapter);
  if (!set)
    secretHeaderSets.set(
      adapter,
      (set = new Set([...SECRET_HEADERS, ...(adapter.secretHeaders ?? [])])),
    );
  return set;
}

/** What of `req` travels beside its events: everything but the body, with secret headers redacted. */
export function rawRequestOf(req: IncomingRequest, secretHeaders: ReadonlySet<string>): RawRequest {
  const headers: Record<string, string> = {};
  for (const name in req.headers) {
    const value = req.headers[name];
    if (value !== undefined) headers[name] = secretHeaders.has(name) ? '[redacted]' : value;
  }
  return {
    method: req.method,
    path: `/${req.platform}/${req.namespace}${req.route ? `/${req.route}` : ''}`,
    headers,
    bodySize: req.body.length,
    ip: req.ip,
  };
}

/** A verified request on its way to the queue: from a live call, or rebuilt from a quarantined record. */
export interface PipelineInput {
  adapter: Adapter;
  route: RouteSpec;
  settings: Record<string, unknown>;
  request: IncomingRequest;
  /** Shape limits of JSON and form bodies (server.parseLimits). */
  limits: ParseLimits;
  /** What the verifier established (a republish passes what was kept with the record). */
  verified?: Verified;
  /** sha256 of the body as received (a kept copy may differ: its secrets are redacted). */
  bodySha256: string;
  /** An already parsed payload (a multipart body, streamed into the blob store): the body is then not parsed. Its problems (a second file) make it invalid. */
  parsed?: { payload: unknown; problems?: SchemaProblem[] };
  /**
   * Key parts for events that would otherwise get a fresh random id (MyDataHelps' Schedule
   * Triggered): a republish passes the record's identity, so running it twice publishes once.
   */
  fallbackKey?: readonly string[];
}

/** The payload could not be used: what was wrong, and the payload when it could be parsed. */
export interface Refusal {
  reason: QuarantineReason;
  problems: SchemaProblem[];
  error: StudyhookError;
  payload?: unknown;
}

export type PipelineResult = { published: Envelope[] } | { refused: Refusal };

function refusalOf(err: unknown): Refusal {
  if (
    !(err instanceof StudyhookError) ||
    !['SH_BAD_BODY', 'SH_UNSUPPORTED_MEDIA_TYPE', 'SH_BODY_TOO_LARGE'].includes(err.code)
  )
    throw err;
  return {
    reason: err.code === 'SH_BODY_TOO_LARGE' ? 'over-limits' : 'unreadable',
    problems: [{ path: '/', message: err.message }],
    error: err,
  };
}

/**
 * The tail of the one pipeline, after verification: parse → validate → normalise → build events →
 * publish. Ingest runs it on every request and `studyhook quarantine republish` on every kept one,
 * so a republished payload gets exactly the events (and ids) the live call would have got.
 * A payload that cannot be used is returned as a refusal (nothing published) for the caller to
 * quarantine or refuse; any other error (Redis down) is thrown.
 */
export async function processRequest(
  input: PipelineInput,
  publish: (envelopes: Envelope[]) => Promise<void>,
): Promise<PipelineResult> {
  const { route, request } = input;
  let payload: unknown;
  if (input.parsed) payload = input.parsed.payload;
  else {
    try {
      payload = parseBody(route.body, request.body, request.headers['content-type'], input.limits);
    } catch (err) {
      return { refused: refusalOf(err) };
    }
  }
  const schema = typeof route.schema === 'function' ? route.schema(request) : route.schema;
  const problems = [...(input.parsed?.problems ?? [])];
  if (schema) validatePayload(schema, payload, problems);
  if (problems.length > 0) {
    return {
      refused: {
        reason: 'invalid',
        problems,
        payload,
        error: new StudyhookError('SH_INVALID_PAYLOAD', undefined, { details: problems }),
      },
    };
  }
  let envelopes: Envelope[];
  try {
    envelopes = eventsOf(input, payload);
  } catch (err) {
    // why: a payload the schema let through that an adapter still cannot turn into events (a value
    // no rule foresaw: a status object String() cannot convert, a date past a Date's range) was a 500
    // that kept nothing, and several platforms never call again. Kept in quarantine instead, to be
    // republished once the adapter is fixed.
    return {
      refused: {
        reason: 'unprocessable',
        problems: [{ path: '/', message: `could not be turned into events: ${String(err)}` }],
        payload,
        error: new StudyhookError('SH_INVALID_PAYLOAD', undefined, { cause: err }),
      },
    };
  }
  // why: the route names the body it identifies (the form its signature covered), not the core: the raw
  // body's hash let a captured request re-encoded (json.dumps spacing, a BOM) pass as a new one.
  const signed = route.replayKey?.(request, {
    bodySha256: input.bodySha256,
    verified: input.verified ?? {},
  });
  if (signed) {
    const base = hash('sha256', [request.platform, request.namespace, ...signed].join('\u001f'));
    envelopes.forEach((env, i) => {
      env.replay = `${base}:${i}`;
    });
  }
  try {
    await publish(envelopes);
  } catch (err) {
    // why: only Redis being away is the caller's 503 (or spool); anything else is about these events
    // (they cannot be serialised or stored), and a platform that never retries must not lose them.
    if (!(err instanceof StudyhookError) || err.code !== 'SH_PUBLISH_FAILED') throw err;
    return {
      refused: {
        reason: 'unstorable',
        problems: [{ path: '/', message: err.message }],
        payload,
        error: err,
      },
    };
  }
  return { published: envelopes };
}

/** The request's events: the route's normalise, then each draft built into an envelope. */
function eventsOf(input: PipelineInput, payload: unknown): Envelope[] {
  const { route, request, fallbackKey } = input;
  const drafts = route.normalise({
    payload,
    request,
    settings: input.settings,
    verified: input.verified ?? {},
  });
  const raw = rawRequestOf(request, secretHeadersOf(input.adapter));
  // why: every event of one request shares its raw-request record (it is serialised per job, never mutated).
  return drafts.map((d, i) =>
    buildEvent(
      fallbackKey && d.id === undefined && d.key === undefined
        ? { ...d, key: [...fallbackKey, i] }
        : d,
      request,
      input.bodySha256,
      raw,
    ),
  );
}
