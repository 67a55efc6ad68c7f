import { hostname } from 'node:os';
import { mkdir, open, readdir, readFile, rename, stat, unlink, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { Gauge, Counter } from 'prom-client';
import type { Envelope } from '../event/build-event.js';
import { StudyhookError } from '../errors.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Publisher } from './publisher.js';

export interface SpoolOptions {
  /** `<dataDir>/spool`. */
  dir: string;
  /** Journal size at which new requests are refused (503) rather than spooled. */
  maxBytes: number;
  /** Pause between drain attempts while Redis is still away. */
  retryMs?: number;
  logger: Logger;
  metrics?: Metrics;
}

/** One journal per process, so that several API processes may share a data directory. */
function journalName(): string {
  return `${hostname().replace(/[^A-Za-z0-9_.-]/g, '_')}-${process.pid}.jsonl`;
}

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (err) { return (err as NodeJS.ErrnoException).code === 'EPERM'; }
}

/**
 * Wraps a publisher so that a Redis outage does not cost senders that never retry: the request's
 * envelopes are appended to an fsync'd journal (mode 0600: it holds ctx secrets) and acknowledged;
 * a drain loop re-publishes them in order when Redis is back. Re-publishing is idempotent (BullMQ
 * jobId + deduplication key), so a crash between publish and truncate gives no duplicate delivery.
 */
export function createSpoolingPublisher(inner: Publisher, opts: SpoolOptions): Publisher {
  const file = join(opts.dir, journalName());
  const retryMs = opts.retryMs ?? 1000;
  const registers = opts.metrics ? [opts.metrics.registry] : [];
  const bytesGauge = new Gauge({ name: 'studyhook_spool_bytes', help: 'Bytes of accepted events waiting in the local spool for Redis', registers });
  const spooled = new Counter({ name: 'studyhook_spooled_events_total', help: 'Events spooled locally because Redis was unavailable', registers });
  const refused = new Counter({ name: 'studyhook_spool_full_total', help: 'Requests refused (503) because the spool reached spool.maxBytes', registers });
  let bytes = 0;
  let handle: FileHandle | undefined;
  let chain: Promise<unknown> = Promise.resolve();
  let draining: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let closed = false;
  const adopted: string[] = [];

  // why: one chain orders appends and the final truncate, so a line is never lost between them.
  function locked<T>(fn: () => Promise<T>): Promise<T> {
    const next = chain.then(fn, fn);
    chain = next.catch(() => undefined);
    return next;
  }

  async function append(envelopes: readonly Envelope[]): Promise<void> {
    const line = `${JSON.stringify(envelopes)}\n`;
    const size = Buffer.byteLength(line);
    await locked(async () => {
      if (bytes + size > opts.maxBytes) {
        refused.inc();
        throw new StudyhookError('SH_SPOOL_FULL', undefined, { headers: { 'Retry-After': '30' } });
      }
      if (!handle) { await mkdir(opts.dir, { recursive: true, mode: 0o700 }); handle = await open(file, 'a', 0o600); }
      await handle.write(line);
      await handle.datasync();
      bytes += size;
      bytesGauge.set(bytes);
      spooled.inc(envelopes.length);
    });
    opts.logger.warn({ events: envelopes.map((e) => e.event.id), spoolBytes: bytes }, 'Redis unavailable: events spooled locally');
    schedule(0);
  }

  async function drainFile(path: string, fromByte: number): Promise<number> {
    const buf = await readFile(path);
    let offset = fromByte;
    while (offset < buf.length) {
      const nl = buf.indexOf(10, offset);
      if (nl < 0) break; // a torn last line from a crash mid-write was never acknowledged
      const line = buf.subarray(offset, nl).toString('utf8');
      if (line.trim()) await inner.publish(JSON.parse(line) as Envelope[]);
      offset = nl + 1;
    }
    return offset;
  }

  let ownOffset = 0;
  async function drain(): Promise<void> {
    while (adopted.length > 0) {
      const path = adopted[0]!;
      await drainFile(path, 0);
      await unlink(path).catch(() => undefined);
      adopted.shift();
      opts.logger.info({ journal: path }, 'spool journal of an earlier process drained');
    }
    if (bytes === 0) return;
    ownOffset = await drainFile(file, ownOffset);
    await locked(async () => {
      const size = (await stat(file)).size;
      if (size > ownOffset) return; // more arrived meanwhile: the next round takes it
      await handle?.truncate(0);
      ownOffset = 0;
      bytes = 0;
      bytesGauge.set(0);
      opts.logger.info('spool drained into Redis');
    });
  }

  function schedule(delay: number): void {
    if (closed || draining || timer) return;
    timer = setTimeout(() => {
      timer = undefined;
      draining = drain().then(
        () => { draining = undefined; if (bytes > 0 || adopted.length > 0) schedule(0); },
        () => { draining = undefined; schedule(retryMs); },
      );
    }, delay);
  }

  const started = (async () => {
    await mkdir(opts.dir, { recursive: true, mode: 0o700 });
    const mine = new RegExp(`^${hostname().replace(/[^A-Za-z0-9_.-]/g, '_').replace(/[.]/g, '\\.')}-(\\d+)\\.jsonl$`);
    for (const name of (await readdir(opts.dir)).sort()) {
      const m = mine.exec(name);
      // why: only journals of dead processes on this host are taken over (a live sibling drains its own);
      // one with our own pid is a predecessor's (containers often run as pid 1 every time).
      if (!m || (Number(m[1]) !== process.pid && alive(Number(m[1])))) continue;
      const claimed = join(opts.dir, `${name}.adopted-${process.pid}`);
      try { await rename(join(opts.dir, name), claimed); adopted.push(claimed); } catch { /* another process took it */ }
    }
    if (adopted.length > 0) schedule(0);
  })();

  return {
    async publish(envelopes) {
      await started;
      // why: while anything is spooled, new events queue behind it so that order is kept.
      if (bytes > 0 || draining) { await append(envelopes); return; }
      try {
        await inner.publish(envelopes);
      } catch (err) {
        if (!(err instanceof StudyhookError) || err.code !== 'SH_QUEUE_UNAVAILABLE') throw err;
        await append(envelopes);
      }
    },
    waitReady: () => inner.waitReady(),
    ready: () => inner.ready(),
    /** Tries to drain what is left (bounded by the inner publish timeout), then closes. */
    async close() {
      await started;
      closed = true; // why: set first, so a drain round ending now schedules no further timer
      clearTimeout(timer);
      timer = undefined;
      await draining?.catch(() => undefined);
      if (bytes > 0 || adopted.length > 0) await drain().catch(() => undefined);
      await locked(async () => { await handle?.close(); handle = undefined; });
      if (bytes === 0) await unlink(file).catch(() => undefined);
      await inner.close();
    },
  };
}
