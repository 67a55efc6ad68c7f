import { randomUUID } from 'node:crypto';
import type { Adapter, IncomingRequest } from '../../src/adapter/types.js';
import type { Envelope } from '../../src/event/build-event.js';
import { sha256Hex } from '../../src/event/build-event.js';
import { ExportError } from '../../src/export/export-error.js';
import { openArchive } from '../../src/export/open-archive.js';
import type { ParseLimits } from '../../src/http/parse-limits.js';
import { processRequest } from '../../src/pipeline/process-request.js';
import type {
  ProlificClient,
  ProlificDelivery,
  ProlificSubmission,
  ProlificSubscription,
} from './client.js';

/** What the archive already holds of a namespace's Prolific events. */
export interface KnownEvents {
  ids: Set<string>;
  contents: Set<string>;
  studies: Set<string>;
}

/** One event found missing: where it came from and the body it is published with. */
export interface MissingEvent {
  from: 'delivery-log' | 'submissions';
  body: Record<string, unknown>;
  eventId?: string;
  sentAt?: string;
  delivery?: string;
}

export interface BackfillReport {
  subscriptions: {
    id: string;
    eventType: string;
    deliveries: number;
    byStatus: Record<string, number>;
    missing: number;
  }[];
  studies: { id: string; submissions: number; missing: number }[];
  missing: MissingEvent[];
  published: string[];
  /** Missing events the Prolific schema refuses (left out, named here). */
  refused: string[];
}

/** The extension attribute that marks a backfilled event, and its values. */
export const BACKFILL_ATTRIBUTE = 'backfilled';

/**
 * A submission's status is what identifies a status change across our archive and Prolific's lists:
 * whether Prolific's log id equals the X-Event-ID it sends is not documented (prolific.md), so an
 * event we hold under another id is still recognised.
 */
const contentKey = (
  type: string | null | undefined,
  resource: string | null | undefined,
  status: string | null | undefined,
) =>
  type === 'submission.status.change' && resource && status
    ? `${resource}\u001f${status}`
    : undefined;

/** Reads what the archive holds of the namespace's Prolific events, with the export's engine. */
export async function knownEvents(archiveDir: string, namespace: string): Promise<KnownEvents> {
  const known: KnownEvents = { ids: new Set(), contents: new Set(), studies: new Set() };
  let archive;
  try {
    archive = await openArchive({ archiveDir, namespace, namespaces: { prolific: namespace } });
  } catch (err) {
    // why: nothing archived yet for the namespace means every delivery is missing, not an error.
    if (err instanceof ExportError && /^no prolific\//.test(err.message)) return known;
    throw err;
  }
  try {
    const sql = `SELECT id, data.event_type AS t, data.resource_id AS r, data.status AS s, data.study_id AS st FROM ${archive.events('prolific', { data: 'STRUCT(event_type VARCHAR, resource_id VARCHAR, status VARCHAR, study_id VARCHAR)' }, { dedupe: false })}`;
    for (const row of (await archive.conn.runAndReadAll(sql)).getRowObjectsJS() as Record<
      string,
      string | null
    >[]) {
      known.ids.add(String(row['id']));
      const k = contentKey(row['t'], row['r'], row['s']);
      if (k) known.contents.add(k);
      if (row['st']) known.studies.add(row['st']);
      if (row['t']?.startsWith('study.') && row['r']) known.studies.add(row['r']);
    }
  } finally {
    await archive.close();
  }
  return known;
}

/** The body Prolific delivered for a log entry: its payload when it is the delivery body, else rebuilt from the entry. */
function deliveryBody(d: ProlificDelivery): Record<string, unknown> {
  const p =
    d.payload && typeof d.payload === 'object' && !Array.isArray(d.payload) ? d.payload : {};
  return {
    ...(d.resource_id !== undefined && { resource_id: d.resource_id }),
    ...(d.event_type !== undefined && { event_type: d.event_type }),
    ...p,
  };
}

/** Subscriptions of the workspace that deliver to this namespace (`…/prolific/<namespace>`). */
export function subscriptionsOf(
  all: readonly ProlificSubscription[],
  namespace: string,
): ProlificSubscription[] {
  return all.filter((s) => {
    try {
      return new URL(s.target_url).pathname.replace(/\/+$/, '').endsWith(`/prolific/${namespace}`);
    } catch {
      return false;
    }
  });
}

/**
 * Compares Prolific's own records with the archive: every delivery in each subscription's log, and
 * every submission's current status in each study's submissions list. What the archive lacks is
 * added to `report.missing` and handed to `found` after each subscription and each study. A Prolific
 * API error is thrown as it comes.
 */
export async function findMissing(
  client: ProlificClient,
  subs: readonly ProlificSubscription[],
  studyIds: readonly string[],
  known: KnownEvents,
  since: Date | undefined,
  report: BackfillReport,
  found: (missing: MissingEvent[]) => Promise<void>,
): Promise<void> {
  const after = (iso: string | undefined) => !since || !iso || Date.parse(iso) >= since.getTime();
  const queued = new Set<string>();
  for (const sub of subs) {
    const entry = {
      id: sub.id,
      eventType: sub.event_type,
      deliveries: 0,
      byStatus: {} as Record<string, number>,
      missing: 0,
    };
    report.subscriptions.push(entry);
    for await (const page of client.subscriptionEvents(sub.id)) {
      for (const d of page) {
        if (!after(d.datetime_created)) continue;
        entry.deliveries += 1;
        entry.byStatus[d.status ?? 'UNKNOWN'] = (entry.byStatus[d.status ?? 'UNKNOWN'] ?? 0) + 1;
        const body = deliveryBody(d);
        if (
          typeof body['resource_id'] === 'string' &&
          typeof body['event_type'] === 'string' &&
          body['event_type'].startsWith('study.')
        )
          known.studies.add(body['resource_id']);
        const key = contentKey(
          String(body['event_type'] ?? ''),
          String(body['resource_id'] ?? ''),
          typeof body['status'] === 'string' ? body['status'] : undefined,
        );
        if (
          known.ids.has(d.id) ||
          queued.has(d.id) ||
          (key && (known.contents.has(key) || queued.has(key)))
        )
          continue;
        queued.add(d.id);
        if (key) queued.add(key);
        entry.missing += 1;
        report.missing.push({
          from: 'delivery-log',
          body,
          eventId: d.id,
          delivery: d.id,
          ...(d.datetime_created !== undefined && { sentAt: d.datetime_created }),
        });
      }
    }
    // why: published source by source, so that an API failing later leaves this part done.
    await found(report.missing.slice(report.missing.length - entry.missing));
  }
  for (const study of new Set([...studyIds, ...known.studies])) {
    const entry = { id: study, submissions: 0, missing: 0 };
    report.studies.push(entry);
    for await (const page of client.studySubmissions(study)) {
      for (const s of page as ProlificSubmission[]) {
        if (!after(s.started_at)) continue;
        entry.submissions += 1;
        const participant = s.participant_id ?? s.participant;
        const key = contentKey('submission.status.change', s.id, s.status);
        if (!key || known.contents.has(key) || queued.has(key)) continue;
        queued.add(key);
        entry.missing += 1;
        report.missing.push({
          from: 'submissions',
          body: {
            resource_id: s.id,
            event_type: 'submission.status.change',
            ...(participant !== undefined && { participant_id: participant }),
            status: s.status,
            study_id: s.study_id ?? study,
          },
        });
      }
    }
    await found(report.missing.slice(report.missing.length - entry.missing));
  }
}

/**
 * The request a missing event would have been, for the normal pipeline: a log entry keeps its
 * delivery id as X-Event-ID (the id rule of a live delivery) and its creation time as X-Timestamp; a
 * status found only in the submissions list has no event id, so its id derives from its body, as a
 * live delivery without X-Event-ID (the same status found again gives the same id).
 */
function requestOf(namespace: string, m: MissingEvent): IncomingRequest {
  const body = Buffer.from(JSON.stringify(m.body));
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (m.eventId) headers['x-event-id'] = m.eventId;
  const at = m.sentAt ? Date.parse(m.sentAt) : Number.NaN;
  if (!Number.isNaN(at)) headers['x-timestamp'] = String(at / 1000);
  return {
    method: 'POST',
    platform: 'prolific',
    namespace,
    route: '',
    params: {},
    headers,
    query: {},
    body,
    ip: '',
    requestId: randomUUID(),
    receivedAt: new Date(),
  };
}

/**
 * Publishes missing events through the pipeline's tail (validate, normalise, build, publish), each
 * marked `backfilled: prolific-delivery-log | prolific-submissions`. One the schema refuses is
 * named in `report.refused` and left out. Stops at the first other failure (Redis away);
 * `report.published` says what was done, and a rerun finds the rest (same ids: nothing twice).
 */
/** Prolific's adapter, from the registry the CLI passes (importing it here would import the registry into itself). */
export function adapterOf(adapters: readonly Adapter[]): Adapter {
  const adapter = adapters.find((x) => x.platform === 'prolific');
  if (!adapter) throw new Error('the Prolific adapter is not registered');
  return adapter;
}

export async function publishMissing(
  adapter: Adapter,
  missing: readonly MissingEvent[],
  namespace: string,
  settings: Record<string, unknown>,
  limits: ParseLimits,
  publish: (envelopes: Envelope[]) => Promise<void>,
  report: BackfillReport,
): Promise<void> {
  const route = adapter.routes[0]!;
  for (const m of missing) {
    const request = requestOf(namespace, m);
    const mark = async (envelopes: Envelope[]) => {
      for (const e of envelopes)
        (e.event as Record<string, unknown>)[BACKFILL_ATTRIBUTE] = `prolific-${m.from}`;
      await publish(envelopes);
    };
    const result = await processRequest(
      {
        adapter,
        route,
        settings,
        request,
        limits,
        bodySha256: sha256Hex(request.body),
        verified: { signedform: 'api' },
      },
      mark,
    );
    if ('refused' in result) {
      report.refused.push(
        `${m.from} ${m.delivery ?? String(m.body['resource_id'])}: ${result.refused.problems.map((p) => `${p.path} ${p.message}`).join('; ')}`,
      );
      continue;
    }
    report.published.push(...result.published.map((e) => e.event.id));
  }
}
