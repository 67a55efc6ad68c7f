import { mkdir, stat, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Envelope } from '../event/build-event.js';
import { StudyhookError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Publisher } from './publisher.js';
import {
  adoptOrphans,
  beat,
  journalName,
  stopBeating,
  type HeartbeatWatch,
} from './spool-adoption.js';
import { createLineDrainer, type Pending } from './spool-drain.js';
import { createSpoolJournal } from './spool-journal.js';
import { spoolMetrics } from './spool-metrics.js';

export interface SpoolOptions {
  /** `<dataDir>/spool`. */
  dir: string;
  /** Journal size at which new requests are refused (503) rather than spooled. */
  maxBytes: number;
  /** Pause between drain attempts while Redis is still away. */
  retryMs?: number;
  /** How often this process writes its heartbeat and looks for journals of processes that are gone (default 10 s). */
  heartbeatMs?: number;
  /** How long another host's heartbeat must stay the same before its journal is taken over (default 60 s). */
  orphanAfterMs?: number;
  logger: Logger;
  metrics?: Metrics;
}

/**
 * Wraps a publisher so that a Redis outage does not cost senders that never retry: the request's
 * envelopes are appended to an fsync'd journal and acknowledged; a drain loop re-publishes them in
 * order when Redis is back. Re-publishing is idempotent (BullMQ jobId + deduplication key), so a
 * crash between publish and truncate gives no duplicate delivery. Only Redis being away is bridged:
 * an event the inner publisher refuses for any other reason is the caller's to handle, and a
 * journal line that cannot be published for such a reason is set aside (`rejected.jsonl`), logged
 * and counted, so that it never blocks the lines after it.
 */
export function createSpoolingPublisher(inner: Publisher, opts: SpoolOptions): Publisher {
  const journal = createSpoolJournal(join(opts.dir, journalName()));
  const retryMs = opts.retryMs ?? 1000;
  const registers = opts.metrics ? [opts.metrics.registry] : [];
  const adopted: Pending[] = [];
  const heartbeatMs = opts.heartbeatMs ?? 10_000;
  const watch: HeartbeatWatch = new Map();
  let beats = 0;
  let lastBeat = performance.now();
  let scanning: Promise<void> | undefined;
  let beatTimer: NodeJS.Timeout | undefined;
  /** How far the journal's file number `ownFile` (SpoolJournal.generation) is in Redis. */
  let ownOffset = 0;
  let ownFile = 0;
  // why: after a takeover the journal writes a new file, none of which is in Redis yet.
  const ownDrained = (): number => (ownFile === journal.generation() ? ownOffset : 0);
  let draining: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const backlog = (): number =>
    journal.size() - ownDrained() + adopted.reduce((n, p) => n + p.size - p.offset, 0);
  const { spooled, refused, setAside } = spoolMetrics(registers, backlog);
  const { drainFile } = createLineDrainer({
    inner,
    logger: opts.logger,
    rejectedFile: join(opts.dir, 'rejected.jsonl'),
    setAside,
  });

  async function append(envelopes: readonly Envelope[]): Promise<void> {
    // why: a process that could not beat for a while (frozen, or its disk hung) may have had its
    // journal adopted meanwhile; it beats and checks before it writes another line to it.
    if (performance.now() - lastBeat > 3 * heartbeatMs) await heartbeat();
    try {
      if (await journal.append(Buffer.from(`${JSON.stringify(envelopes)}\n`), opts.maxBytes))
        movedAway();
    } catch (err) {
      refused.inc();
      opts.logger.error(
        { err, spoolBytes: backlog() },
        'Redis unavailable and the spool refused the request',
      );
      throw err;
    }
    spooled.inc(envelopes.length);
    opts.logger.warn(
      { events: envelopes.map((e) => e.event.id), spoolBytes: backlog() },
      'Redis unavailable: events spooled locally',
    );
    schedule(0);
  }

  async function drain(): Promise<void> {
    while (adopted.length > 0) {
      const p = adopted[0]!;
      await drainFile(p);
      if (p.offset < p.size)
        opts.logger.warn(
          { journal: p.path, bytes: p.size - p.offset },
          'spool journal ended in an unterminated line (a write cut off by a crash, never acknowledged): dropped',
        );
      await unlink(p.path).catch(() => undefined);
      adopted.shift();
      opts.logger.info({ journal: p.path }, 'spool journal of an earlier process drained');
    }
    if (journal.size() === 0) return;
    const file = journal.generation();
    const own: Pending = {
      path: journal.path,
      offset: ownDrained(),
      size: journal.size(),
      own: true,
    };
    await drainFile(own);
    // why: a round under way when the journal was taken over (this process frozen, or its disk hung,
    // while it drained) read the old file to its end. Its offset says nothing of the new file; taken
    // as that file's, it hid the lines acknowledged there since and truncated them away. The next
    // round publishes them.
    if (journal.generation() !== file) return;
    [ownOffset, ownFile] = [own.offset, file];
    if (await journal.truncateIfDrained(ownOffset, file)) {
      ownOffset = 0;
      opts.logger.info('spool drained into Redis');
    }
  }

  function schedule(delay: number): void {
    if (closed || draining || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      draining = drain().then(
        () => {
          draining = undefined;
          if (backlog() > 0) schedule(0);
        },
        (err: unknown) => {
          draining = undefined;
          if (!(err instanceof StudyhookError && err.code === 'SH_QUEUE_UNAVAILABLE'))
            opts.logger.error({ err }, 'spool drain failed; retrying');
          schedule(retryMs);
        },
      );
    }, delay);
  }

  /** Takes over the journals of processes that are gone (see adoptOrphans) and drains them. */
  async function adopt(first: boolean): Promise<void> {
    const skip = new Set(adopted.map((p) => basename(p.path)));
    if (!first) skip.add(basename(journal.path));
    const { adopted: paths, foreign } = await adoptOrphans(
      opts.dir,
      watch,
      opts.orphanAfterMs ?? 60_000,
      skip,
    );
    for (const path of paths)
      adopted.push({ path, offset: 0, size: (await stat(path)).size, own: false });
    if (paths.length > 0) {
      opts.logger.warn(
        { journals: paths, bytes: backlog() },
        'spool journals of processes that are gone adopted: draining them into Redis',
      );
      schedule(0);
    }
    if (first && foreign.length > 0)
      opts.logger.warn(
        { journals: foreign },
        'spool journals of processes on other hosts found: taken over if their heartbeat stops',
      );
  }

  /** Writes the heartbeat, notices a journal adopted by another process (starting a new one), and looks for orphans. */
  async function heartbeat(): Promise<void> {
    await beat(opts.dir, ++beats);
    lastBeat = performance.now();
    if (await journal.reopenIfMoved()) movedAway();
  }

  /** The journal was taken over by another process (this one was silent too long): a new one was started. */
  function movedAway(): void {
    opts.logger.error(
      { journal: journal.path },
      "this process's spool journal was taken over by another process (this one was silent too long): it drains it; a new journal is started",
    );
  }

  function beatLoop(): void {
    beatTimer = setTimeout(() => {
      scanning = heartbeat()
        .then(() => adopt(false))
        .catch((err: unknown) => {
          opts.logger.error(
            { err, dir: opts.dir },
            'spool heartbeat or orphan check failed; retrying',
          );
        })
        .finally(() => {
          scanning = undefined;
          if (!closed) beatLoop();
        });
    }, heartbeatMs);
    beatTimer.unref();
  }

  const started = (async () => {
    await mkdir(opts.dir, { recursive: true, mode: 0o700 });
    await beat(opts.dir, ++beats);
    await adopt(true);
    schedule(0);
    beatLoop();
  })();
  started.catch((err: unknown) =>
    opts.logger.error(
      { err, dir: opts.dir },
      'the spool directory cannot be used: a Redis outage will be answered 503',
    ),
  );
  const ready = started.then(
    () => true,
    () => false,
  );

  return {
    async publish(envelopes) {
      const usable = await ready;
      // why: while anything is spooled, new events queue behind it so that order is kept.
      if (usable && backlog() > 0) {
        await append(envelopes);
        return;
      }
      try {
        await inner.publish(envelopes);
      } catch (err) {
        if (!usable || !(err instanceof StudyhookError) || err.code !== 'SH_QUEUE_UNAVAILABLE')
          throw err;
        await append(envelopes);
      }
    },
    waitReady: () => inner.waitReady(),
    ready: () => inner.ready(),
    backlogBytes: backlog,
    /** Tries to drain what is left (bounded by the inner publish timeout), then closes. */
    async close() {
      await ready;
      closed = true; // why: set first, so a drain round ending now schedules no further timer
      clearTimeout(timer);
      clearTimeout(beatTimer);
      timer = undefined;
      await scanning;
      await draining?.catch(() => undefined);
      if (backlog() > 0) await drain().catch(() => undefined);
      await journal.close();
      if (journal.size() === 0) await unlink(journal.path).catch(() => undefined);
      // why: a journal left with lines (Redis still away) stays this host's to adopt at once; no
      // heartbeat is left either way, so another host takes it over after orphanAfterMs.
      await stopBeating(opts.dir);
      await inner.close();
    },
  };
}
