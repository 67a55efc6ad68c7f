import { join } from 'node:path';
import type { IncomingRequest } from '../adapter/types.js';
import type { FileRef } from '../blobs/blob-store.js';
import type { SchemaProblem } from '../schemas.js';
import { appendLine, dayOf } from '../util/append-line.js';

/** A payload that failed its schema, kept as received (secrets removed) so a fixed schema can take it later. */
export interface QuarantineRecord {
  receivedat: string;
  requestid: string;
  platform: string;
  namespace: string;
  route: string;
  bodysha256: string;
  problems: SchemaProblem[];
  payload: unknown;
  /** Files written for the request (an upload): kept with the record, so none is left unreferenced. */
  files?: FileRef[];
}

export function quarantineFile(dataDir: string, platform: string, namespace: string, day: string): string {
  return join(dataDir, 'quarantine', platform, namespace, `${day}.jsonl`);
}

/** Redacts top-level secret fields of an object payload. */
export function redactFields(payload: unknown, fields: readonly string[]): unknown {
  if (!payload || typeof payload !== 'object' || Array.isArray(payload) || fields.length === 0) return payload;
  const copy: Record<string, unknown> = { ...(payload as Record<string, unknown>) };
  for (const f of fields) if (f in copy) copy[f] = '[redacted]';
  return copy;
}

/** Appends the record to `<dataDir>/quarantine/<platform>/<namespace>/<day>.jsonl`, fsync'd before the reply. */
export async function keepQuarantined(dataDir: string, req: IncomingRequest, record: Omit<QuarantineRecord, 'receivedat' | 'requestid' | 'platform' | 'namespace' | 'route'>): Promise<QuarantineRecord> {
  const full: QuarantineRecord = {
    receivedat: req.receivedAt.toISOString(), requestid: req.requestId, platform: req.platform, namespace: req.namespace, route: req.route, ...record,
  };
  await appendLine(quarantineFile(dataDir, req.platform, req.namespace, dayOf(full.receivedat)), JSON.stringify(full));
  return full;
}
