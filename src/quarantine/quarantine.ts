import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { IncomingRequest, Verified } from '../adapter/types.js';
import type { BlobStore, FileRef } from '../blobs/blob-store.js';
import type { SchemaProblem } from '../schemas.js';
import { appendLine, dayOf } from '../util/append-line.js';
import { REDACTED, redactRaw } from './redact-raw.js';

/** Why a request was kept: its body could not be read, was over the parse limits, failed the schema, or its events could not be stored for a reason other than Redis being away. */
export type QuarantineReason =
  'unreadable' | 'over-limits' | 'invalid' | 'unprocessable' | 'unstorable';

/** The request as normalise saw it, minus secrets: enough to run the pipeline again on it. */
export interface QuarantinedRequest {
  method: string;
  /** Lower-case names; secret headers are kept as `[redacted]`, as in an event's raw request. */
  headers: Record<string, string>;
  /** Route parameters, without secret ones (MyDataHelps' URL token). */
  params: Record<string, string>;
  query: Record<string, string>;
  ip: string;
  bodySize: number;
  /** What verification established (e.g. `{signedform: 'json.dumps'}`), for a republish to normalise the same way. */
  verified?: Record<string, string>;
}

/**
 * A request kept because its payload could not be used, so that `studyhook quarantine republish`
 * can run it through the pipeline again after a schema or parser fix. New fields may be added;
 * readers ignore the ones they do not know.
 */
export interface QuarantineRecord {
  receivedat: string;
  requestid: string;
  platform: string;
  namespace: string;
  route: string;
  /** Absent in records written before reasons were kept (they were all 'invalid'). */
  reason?: QuarantineReason;
  /** sha256 of the body as received (before any secret was redacted from the kept copy). */
  bodysha256: string;
  problems: SchemaProblem[];
  /** Absent in records written before requests were kept. */
  request?: QuarantinedRequest;
  /** The raw body bytes in the blob store (fsync'd), secret fields redacted; absent for an empty or multipart body. */
  body?: FileRef;
  /** The parsed payload, secret fields redacted: a multipart body's fields and file references, or (older records) any payload. */
  payload?: unknown;
  /** Files written for the request (an upload): kept with the record, so none is left unreferenced. */
  files?: FileRef[];
}

/** What to leave out of a kept request. */
export interface QuarantineSecrets {
  headers: ReadonlySet<string>;
  params: readonly string[];
  fields: readonly string[];
}

export function quarantineFile(
  dataDir: string,
  platform: string,
  namespace: string,
  day: string,
): string {
  return join(dataDir, 'quarantine', platform, namespace, `${day}.jsonl`);
}

/** Redacts top-level secret fields of an object payload. */
export function redactFields(payload: unknown, fields: readonly string[]): unknown {
  if (!payload || typeof payload !== 'object' || Array.isArray(payload) || fields.length === 0)
    return payload;
  const copy: Record<string, unknown> = { ...(payload as Record<string, unknown>) };
  for (const f of fields) if (Object.hasOwn(copy, f)) copy[f] = REDACTED;
  return copy;
}

function keptRequest(
  req: IncomingRequest,
  secrets: QuarantineSecrets,
  verified: Verified | undefined,
): QuarantinedRequest {
  // why: Object.fromEntries defines own properties, so a header or parameter named `__proto__` stays data.
  const headers = Object.fromEntries(
    Object.entries(req.headers).flatMap(([name, value]) =>
      typeof value === 'string' ? [[name, secrets.headers.has(name) ? REDACTED : value]] : [],
    ),
  );
  const params = Object.fromEntries(
    Object.entries(req.params).filter(([name]) => !secrets.params.includes(name)),
  );
  const kept: QuarantinedRequest = {
    method: req.method,
    headers,
    params,
    query: { ...req.query },
    ip: req.ip,
    bodySize: req.body.length,
  };
  if (verified) kept.verified = { ...verified };
  return kept;
}

/**
 * Keeps a request whose payload could not be used: the raw body goes to the blob store (fsync'd,
 * secret fields redacted), and one line referring to it is appended to
 * `<dataDir>/quarantine/<platform>/<namespace>/<day>.jsonl` (fsync'd), both before the reply.
 */
export async function keepQuarantined(
  store: { dataDir: string; blobs: BlobStore; fileMode?: number },
  req: IncomingRequest,
  kept: {
    reason: QuarantineReason;
    problems: SchemaProblem[];
    bodysha256: string;
    verified?: Verified;
    payload?: unknown;
    files?: FileRef[];
  },
  secrets: QuarantineSecrets,
): Promise<QuarantineRecord> {
  const record: QuarantineRecord = {
    receivedat: req.receivedAt.toISOString(),
    requestid: req.requestId,
    platform: req.platform,
    namespace: req.namespace,
    route: req.route,
    reason: kept.reason,
    bodysha256: kept.bodysha256,
    problems: kept.problems,
    request: keptRequest(req, secrets, kept.verified),
  };
  if (req.body.length > 0) {
    const bytes = redactRaw(req.body, secrets.fields, req.headers['content-type']);
    record.body = await store.blobs.put(Readable.from([bytes]), {
      name: `quarantine-${req.requestId}`,
      contentType: 'application/octet-stream',
    });
  }
  if (kept.payload !== undefined) record.payload = redactFields(kept.payload, secrets.fields);
  if (kept.files?.length) record.files = kept.files;
  await appendLine(
    quarantineFile(store.dataDir, req.platform, req.namespace, dayOf(record.receivedat)),
    JSON.stringify(record),
    store.fileMode === undefined ? {} : { fileMode: store.fileMode },
  );
  return record;
}
