import { mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { StudyhookError } from '../errors.js';
import { appendWhole } from '../util/append-whole.js';

/** The journal of one process: appended under a lock, truncated once drained. Mode 0600: it holds ctx secrets. */
export interface SpoolJournal {
  readonly path: string;
  /** Bytes in the file (acknowledged events not yet drained, plus drained ones before the truncate). */
  size(): number;
  /** Appends one line durably (fdatasync), or throws SH_SPOOL_FULL / SH_SPOOL_UNWRITABLE with the file as it was. */
  append(line: Buffer, maxBytes: number): Promise<void>;
  /**
   * True, with the file closed so that the next append starts a new one at `path`, when the file at
   * `path` is no longer the one this journal writes (another process adopted it by a rename).
   */
  reopenIfMoved(): Promise<boolean>;
  /** Empties the file if nothing was appended after `drainedTo`; true when it did. */
  truncateIfDrained(drainedTo: number): Promise<boolean>;
  close(): Promise<void>;
}

export function createSpoolJournal(path: string): SpoolJournal {
  let handle: FileHandle | undefined;
  let bytes = 0;
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

  return {
    path,
    size: () => bytes,
    append: (line, maxBytes) =>
      locked(async () => {
        if (bytes + line.length > maxBytes)
          throw new StudyhookError('SH_SPOOL_FULL', undefined, {
            headers: { 'Retry-After': '30' },
          });
        await write(line);
      }),
    reopenIfMoved: () =>
      locked(async () => {
        if (!handle) return false;
        const [mine, there] = await Promise.all([handle.stat(), stat(path).catch(() => undefined)]);
        if (there?.ino === mine.ino && there.dev === mine.dev) return false;
        await handle.close().catch(() => undefined);
        handle = undefined;
        bytes = 0;
        return true;
      }),
    truncateIfDrained: (drainedTo) =>
      locked(async () => {
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
