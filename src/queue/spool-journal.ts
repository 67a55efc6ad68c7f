import { mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StudyhookError } from '../errors.js';
import { appendWhole } from '../util/append-whole.js';

/** The journal of one process: appended under a lock, truncated once drained. Mode 0600: it holds ctx secrets. */
export interface SpoolJournal {
  readonly path: string;
  /** Bytes in the file (acknowledged events not yet drained, plus drained ones before the truncate). */
  size(): number;
  /**
   * Appends one line durably (fdatasync), or throws SH_SPOOL_FULL / SH_SPOOL_UNWRITABLE with the file
   * as it was. True when the file had been taken over by another process (see reopenIfMoved), so that
   * the line was written again to a new one at `path`.
   */
  append(line: Buffer, maxBytes: number): Promise<boolean>;
  /**
   * True, with the file closed so that the next append starts a new one at `path`, when the file at
   * `path` is no longer the one this journal writes (another process adopted it by a rename).
   */
  reopenIfMoved(): Promise<boolean>;
  /** Which file this is: 0, then one more each time a takeover made the journal start a new one. */
  generation(): number;
  /** Empties the file if it is still file `generation` and nothing was appended after `drainedTo`; true when it did. */
  truncateIfDrained(drainedTo: number, generation: number): Promise<boolean>;
  close(): Promise<void>;
}

export function createSpoolJournal(path: string): SpoolJournal {
  let handle: FileHandle | undefined;
  let bytes = 0;
  let generation = 0;
  let chain: Promise<unknown> = Promise.resolve();

  // why: one chain orders appends and the truncate, so a line is never lost between them.
  function locked<T>(fn: () => Promise<T>): Promise<T> {
    const next = chain.then(fn, fn);
    chain = next.catch(() => undefined);
    return next;
  }

  async function write(line: Buffer): Promise<void> {
    if (!handle) {
      await mkdir(dirname(path), { recursive: true, mode: 0o700 });
      handle = await open(path, 'a+', 0o600);
      bytes = (await handle.stat()).size;
    }
    try {
      await appendWhole(handle, line);
      await handle.datasync();
    } catch (err) {
      // why: a line whose fsync failed may or may not be on disk; it is not acknowledged, so it must
      // not be drained either. One writer per journal, so cutting back to the last good size is safe.
      await handle.truncate(bytes).catch(() => undefined);
      throw new StudyhookError('SH_SPOOL_UNWRITABLE', undefined, {
        cause: err,
        headers: { 'Retry-After': '30' },
      });
    }
    bytes += line.length;
  }

  /** True when the file at `path` is still the one `handle` writes (no other process renamed it). */
  async function inPlace(fh: FileHandle): Promise<boolean> {
    const [mine, there] = await Promise.all([fh.stat(), stat(path).catch(() => undefined)]);
    return there?.ino === mine.ino && there.dev === mine.dev;
  }

  /** Closes the file, so that the next write starts a new one at `path`. */
  async function restart(fh: FileHandle): Promise<void> {
    await fh.close().catch(() => undefined);
    handle = undefined;
    bytes = 0;
    generation++;
  }

  return {
    path,
    size: () => bytes,
    append: (line, maxBytes) =>
      locked(async () => {
        if (bytes + line.length > maxBytes)
          throw new StudyhookError('SH_SPOOL_FULL', undefined, {
            headers: { 'Retry-After': '30' },
          });
        // why look again once the line is durable: a process frozen (SIGSTOP, a paused VM, a hung
        // disk) with this write queued or in flight can resume after another host took the journal
        // over (a rename), drained and removed it; the line would be acknowledged from a file nobody
        // reads any more. If `path` still names the file written, any adopter renames it later, with
        // the line in, and reads it all. If not, the line is written to a new journal too: the
        // adopter may have published it as well, which is harmless (job id + deduplication key).
        for (let moved = false; ; moved = true) {
          await write(line);
          if (await inPlace(handle!)) return moved;
          await restart(handle!);
        }
      }),
    reopenIfMoved: () =>
      locked(async () => {
        if (!handle || (await inPlace(handle))) return false;
        await restart(handle);
        return true;
      }),
    generation: () => generation,
    truncateIfDrained: (drainedTo, of) =>
      locked(async () => {
        if (of !== generation) return false; // drainedTo counts in a file taken over since
        const size = handle ? bytes : ((await stat(path).catch(() => undefined))?.size ?? 0);
        if (size > drainedTo) return false; // more arrived meanwhile: the next round takes it
        await handle?.truncate(0);
        await handle?.datasync();
        bytes = 0;
        return true;
      }),
    close: () =>
      locked(async () => {
        await handle?.close();
        handle = undefined;
      }),
  };
}
