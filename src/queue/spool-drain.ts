import { stat } from 'node:fs/promises';
import type { Counter } from 'prom-client';
import type { Envelope } from '../event/build-event.js';
import { StudyhookError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import { appendLine } from '../util/append-line.js';
import { readLines, type Line } from '../util/read-lines.js';
import type { Publisher } from './publisher.js';

/** A journal being drained: where it is, and how far its lines are in Redis. */
export interface Pending {
  path: string;
  offset: number;
  size: number;
  own: boolean;
}

export interface LineDrainer {
  /** Publishes a journal's lines from `p.offset`; stops (throws) only when Redis is away. */
  drainFile(p: Pending): Promise<void>;
}

/**
 * Publishes spool journals line by line through `inner`. A line that cannot be published for a
 * reason other than Redis being away (not JSON, an event Redis refuses) is set aside in
 * `rejectedFile`, logged and counted in `setAside`, so that it never blocks the lines after it.
 */
export function createLineDrainer(d: {
  inner: Publisher;
  logger: Logger;
  rejectedFile: string;
  setAside: Counter;
}): LineDrainer {
  async function reject(path: string, line: Line, reason: string): Promise<void> {
    d.setAside.inc();
    d.logger.error(
      { journal: path, line: line.number, reason },
      'spool line set aside: it cannot be published (kept in spool/rejected.jsonl)',
    );
    const record = JSON.stringify({
      at: new Date().toISOString(),
      journal: path,
      line: line.number,
      reason,
      text: line.bytes.toString('utf8'),
    });
    await appendLine(d.rejectedFile, record, { fileMode: 0o600 });
  }

  async function drainFile(p: Pending): Promise<void> {
    // why: an adopted journal someone removed by hand has nothing left to drain; retrying would loop.
    if (!p.own && !(await stat(p.path).catch(() => undefined))) {
      p.offset = p.size;
      return;
    }
    for await (const line of readLines(p.path, p.offset)) {
      let envelopes: Envelope[] | undefined;
      try {
        envelopes = JSON.parse(line.bytes.toString('utf8')) as Envelope[];
      } catch {
        /* set aside below */
      }
      if (!Array.isArray(envelopes)) await reject(p.path, line, 'not a JSON array of envelopes');
      else {
        try {
          await d.inner.publish(envelopes);
        } catch (err) {
          if (err instanceof StudyhookError && err.code === 'SH_QUEUE_UNAVAILABLE') throw err;
          await reject(p.path, line, (err as Error).message);
        }
      }
      p.offset = line.end;
    }
  }

  return { drainFile };
}
