import { createHash } from 'node:crypto';
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { GatewayProcess } from '../helpers/gateway-process.js';
import { LEDGER_FILE } from './config.js';
import { listFiles } from './data-dir.js';
import type { Harness, SinkIndex } from './harness.js';
import type { PlannedStep } from './requests.js';
import type { WireResult } from './wire.js';

/** A step as sent, with its request id and what came back. */
export interface Sent {
  step: PlannedStep;
  requestId: string;
  result: WireResult;
  action: number;
}

/** Largest RSS the gateway process may reach during a run (CI bodies stay under ~10 MB). */
export const RSS_BOUND_BYTES = Number(process.env['FUZZ_RSS_MB'] ?? 512) * 1024 * 1024;

export const ok = (s: Sent) =>
  s.result.status !== undefined && s.result.status >= 200 && s.result.status < 300;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

export function describeSent(s: Sent): string {
  const r = s.result;
  const reply =
    r.status === undefined
      ? (r.error ?? 'no reply')
      : `${r.status} ${r.body.subarray(0, 160).toString('utf8').replace(/\s+/g, ' ')}`;
  return `[${s.requestId}] ${s.step.label} → ${reply}`;
}

/** Path segments as the router reads them. */
function segments(path: string): string[] {
  return path
    .split('?')[0]!
    .split('/')
    .filter(Boolean)
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
}

/** A 2xx that stands for an event: not a preflight, Labvanced's startExpPlayer, or ActiGraph's validation handshake. */
function expectsEvent(s: Sent): boolean {
  const seg = segments(s.step.wire.path);
  if (s.step.wire.method === 'OPTIONS') return false;
  if (seg[0] === 'labvanced' && seg[seg.length - 1] === 'startExpPlayer') return false;
  return s.result.headers['x-actigraph-hook-secret'] === undefined;
}

/** Event ids a reply names (`events`, `id`, `file_guid`). */
function replyIds(r: WireResult): string[] {
  try {
    const b = JSON.parse(r.body.toString('utf8')) as {
      events?: unknown;
      id?: unknown;
      file_guid?: unknown;
    };
    return [...(Array.isArray(b.events) ? b.events : []), b.id, b.file_guid].filter(
      (x): x is string => typeof x === 'string',
    );
  } catch {
    return [];
  }
}

/**
 * An acknowledged request is accounted for in a sink when its request id was delivered there, it
 * was quarantined, the same bytes were delivered before (a redelivery), or — except on Labvanced,
 * whose ids must depend on the body (issue 21, item 5) — the event ids its reply names were delivered.
 */
function accounted(s: Sent, sink: SinkIndex, h: Harness): boolean {
  if (sink.byRequest.has(s.requestId) || h.quarantine.has(s.requestId)) return true;
  if (s.step.wire.body.length > 0 && sink.bySha.has(sha(s.step.wire.body))) return true;
  const ids = replyIds(s.result);
  return (
    segments(s.step.wire.path)[0] !== 'labvanced' &&
    ids.length > 0 &&
    ids.every((id) => sink.byId.has(id))
  );
}

/** Checks on each reply: no 5xx, valid ones acknowledged, forged ones refused, every complete request answered. */
export function replyViolations(sent: readonly Sent[]): string[] {
  const v: string[] = [];
  for (const s of sent) {
    const st = s.result.status;
    if (st !== undefined && st >= 500) v.push(`5xx: ${describeSent(s)}`);
    else if (s.step.expect === 'valid' && !ok(s))
      v.push(`valid request not acknowledged: ${describeSent(s)}`);
    if (s.step.expect === 'forged' && ok(s))
      v.push(`forged request acknowledged: ${describeSent(s)}`);
    const d = s.step.wire.delivery.kind;
    if (st === undefined && s.result.sent && (d === 'whole' || d === 'slow'))
      v.push(`complete request never answered: ${describeSent(s)}`);
  }
  return v;
}

/** Checks once the queues are drained: delivered exactly once, forged stored nowhere, replays at most once, no key dropped. */
export function deliveryViolations(
  sent: readonly Sent[],
  h: Harness,
  twice: readonly { sink: string; id: string }[],
): string[] {
  const v: string[] = [];
  for (const t of twice) v.push(`event ${t.id} delivered more than once to ${t.sink}`);
  for (const s of sent) {
    if (ok(s) && expectsEvent(s)) {
      for (const [name, sink] of [
        ['ledger', h.ledger],
        ['archive', h.archive],
      ] as const) {
        if (!accounted(s, sink, h))
          v.push(`acknowledged but never delivered to ${name}: ${describeSent(s)}`);
      }
    }
    if (s.step.expect === 'forged') {
      const where = [
        h.ledger.byRequest.has(s.requestId) && 'ledger',
        h.archive.byRequest.has(s.requestId) && 'archive',
        h.quarantine.has(s.requestId) && 'quarantine',
      ].filter(Boolean);
      if (where.length > 0)
        v.push(`forged request stored in ${where.join(', ')}: ${describeSent(s)}`);
    }
    const st = s.result.status;
    if (
      s.step.authentic &&
      st !== undefined &&
      !ok(s) &&
      st !== 413 &&
      !h.quarantine.has(s.requestId)
    ) {
      v.push(`authenticated request refused and not kept in quarantine: ${describeSent(s)}`);
    }
    if (s.step.addedKey !== undefined && ok(s)) {
      for (const e of h.ledgerEntries.get(s.requestId) ?? []) {
        if (!e.dataKeys.includes(s.step.addedKey))
          v.push(
            `key '${s.step.addedKey}' dropped from the delivered data (has ${JSON.stringify(e.dataKeys)}): ${describeSent(s)}`,
          );
      }
    }
  }
  const originals = new Map<number, Sent>(
    sent.filter((s) => s.step.label === 'original').map((s) => [s.action, s]),
  );
  for (const [action, original] of originals) {
    if (!sent.some((s) => s.action === action && s.step.replayOf !== undefined)) continue;
    const digest = sha(original.step.wire.body);
    for (const [name, sink] of [
      ['ledger', h.ledger],
      ['archive', h.archive],
    ] as const) {
      const n = sink.bySha.get(digest) ?? 0;
      if (n > 1)
        v.push(
          `replayed signed request delivered ${n} times to ${name}: ${sent
            .filter((s) => s.action === action)
            .map(describeSent)
            .join(' | ')}`,
        );
    }
  }
  return v;
}

/** `.part` files and blobs (new since `before`) that no archived event or quarantine record refers to. */
export async function leftovers(
  gw: GatewayProcess,
  h: Harness,
  before: ReadonlySet<string>,
): Promise<string[]> {
  const files = await listFiles(join(gw.dataDir, 'blobs'));
  const v: string[] = [];
  for (const f of files) {
    if (f.endsWith('.part'))
      v.push(
        `unfinished blob left: ${f.slice(gw.dataDir.length)} (${(await stat(f).catch(() => undefined))?.size ?? '?'} B)`,
      );
    else if (!before.has(f) && !h.referencedBlobs.has(basename(f)))
      v.push(
        `orphan blob (no archived event or quarantine record refers to it): ${f.slice(gw.dataDir.length)} (${(await stat(f).catch(() => undefined))?.size ?? '?'} B)`,
      );
  }
  return v;
}

/** Anything in the run's temp dir besides the config, the data dir and the test sink's own file. */
export async function strayFiles(gw: GatewayProcess): Promise<string[]> {
  const v: string[] = [];
  const expect = async (dir: string, allowed: string[]) => {
    for (const e of await readdir(dir).catch(() => [] as string[]))
      if (!allowed.includes(e)) v.push(`file written outside the data dir: ${join(dir, e)}`);
  };
  await expect(gw.root, ['cwd', 'out']);
  await expect(gw.cwd, ['studyhook.yml', 'data']);
  await expect(gw.outDir, [LEDGER_FILE]);
  return v;
}
