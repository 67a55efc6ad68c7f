import { mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createBatcher, type Batcher, type BatcherOptions } from '../sinks/create-batcher.js';
import { appendWhole, ShortWriteError } from './append-whole.js';
import { DEFAULT_FILE_MODE, dirModeOf } from './append-line.js';

export interface LineWriterOptions {
  /** fdatasync each batch before its appends resolve (default true). */
  fsync?: boolean;
  /** Mode of files (and, with x added, directories) the writer creates. */
  fileMode?: number;
  /** A file's handle is closed after this long without a line (default 10 s). */
  idleMs?: number;
  /** Handles kept open at most; beyond, the least recently used idle ones are closed (default 64). */
  maxOpen?: number;
  /** Most lines per write (default 1000). */
  maxLines?: number;
  /** The batcher factory (the sink context's, which counts batches in the metrics). */
  createBatcher?: <T>(opts: BatcherOptions<T>) => Batcher<T>;
}

/** Appends lines to many files with group commit; see {@link createLineWriter}. */
export interface LineWriter {
  /** Appends one line (a newline is added); resolves once it is written, and fsync'd unless told otherwise. */
  append(file: string, line: string): Promise<void>;
  /** Writes what is queued, then closes every handle. */
  close(): Promise<void>;
}

interface OpenFile {
  fh: FileHandle;
  dev: number;
  ino: number;
}
interface Entry {
  path: string;
  batcher: Batcher<Buffer>;
  open?: OpenFile | undefined;
  active: number;
  lastUsed: number;
}

/**
 * Durable appends with group commit: each file has one open handle, and the lines that arrive while
 * its write and fdatasync are in flight go together in the next write, made durable by one fdatasync.
 * An append resolves only after the fdatasync that covers its line; a failed write or fdatasync fails
 * exactly the appends of that batch (their deliveries retry).
 *
 * Lines stay whole across processes: a batch is one O_APPEND write of whole lines, which a local file
 * takes whole, never interleaved with another's; the fragment of a write cut short (a full disk, a
 * writer killed mid-write) is repaired by the write after it (appendWhole).
 */
export function createLineWriter(opts: LineWriterOptions = {}): LineWriter {
  const fsync = opts.fsync ?? true;
  const fileMode = opts.fileMode ?? DEFAULT_FILE_MODE;
  const idleMs = opts.idleMs ?? 10000;
  const maxOpen = opts.maxOpen ?? 64;
  const batcherFor = opts.createBatcher ?? createBatcher;
  const files = new Map<string, Entry>();
  let closed = false;

  async function openFile(e: Entry): Promise<OpenFile> {
    if (e.open) return e.open;
    await mkdir(dirname(e.path), { recursive: true, mode: dirModeOf(fileMode) });
    const fh = await open(e.path, 'a+', fileMode); // why: a+ so that appendWhole may read the byte before its write
    const s = await fh.stat().catch(async (err: unknown) => {
      await fh.close();
      throw err;
    });
    e.open = { fh, dev: s.dev, ino: s.ino };
    evictIdle();
    return e.open;
  }

  async function drop(e: Entry): Promise<void> {
    const o = e.open;
    e.open = undefined;
    await o?.fh.close().catch(() => undefined);
  }

  // why: the file may be moved or deleted while open (a lab rotating its archive by hand); lines written
  // to the old inode would not be at the path, so they are written again to the path's new file.
  async function stillAtPath(e: Entry, o: OpenFile): Promise<boolean> {
    try {
      const s = await stat(e.path);
      return s.dev === o.dev && s.ino === o.ino;
    } catch {
      return false;
    }
  }

  async function writeBatch(e: Entry, lines: Buffer[]): Promise<void | (Error | undefined)[]> {
    const data = lines.length === 1 ? lines[0]! : Buffer.concat(lines);
    for (let tries = 1; ; tries++) {
      if (tries > 3) throw new Error(`${e.path} keeps being replaced while it is written`);
      const reused = e.open !== undefined;
      const o = await openFile(e);
      if (reused && !(await stillAtPath(e, o))) {
        await drop(e);
        continue;
      }
      try {
        await appendWhole(o.fh, data);
        if (fsync) await o.fh.datasync();
      } catch (err) {
        const kept = err instanceof ShortWriteError ? err.kept : 0;
        try {
          // why: the whole lines a write cut short did take are in the file: made durable, their
          // appends succeed, and only the others retry (written again, they would be there twice).
          if (kept > 0 && fsync) await o.fh.datasync();
        } finally {
          // why: after a failed write or fdatasync the next batch starts on a fresh handle.
          await drop(e);
        }
        if (kept === 0) throw err;
        let at = 0;
        return lines.map((l) => ((at += l.length) <= kept ? undefined : (err as Error)));
      }
      // why: checked again after the write, for a file moved while it was written (its lines are then in both).
      if (await stillAtPath(e, o)) return;
      await drop(e);
    }
  }

  function entryFor(path: string): Entry {
    let e = files.get(path);
    if (!e) {
      const entry: Entry = {
        path,
        active: 0,
        lastUsed: Date.now(),
        batcher: undefined as unknown as Batcher<Buffer>,
      };
      // why: one write at a time per file, so that lines arriving during its fdatasync pile up for the next.
      entry.batcher = batcherFor<Buffer>({
        write: (lines) => writeBatch(entry, lines),
        maxSize: opts.maxLines ?? 1000,
        concurrency: 1,
        oneByOne: false,
      });
      files.set(path, entry);
      e = entry;
    }
    return e;
  }

  function evictIdle(): void {
    const open = [...files.values()].filter((e) => e.open);
    if (open.length <= maxOpen) return;
    const idle = open.filter((e) => e.active === 0).sort((a, b) => a.lastUsed - b.lastUsed);
    for (const e of idle.slice(0, open.length - maxOpen)) forget(e);
  }

  function forget(e: Entry): void {
    files.delete(e.path);
    void e.batcher.close().then(() => drop(e));
  }

  const sweeper = setInterval(
    () => {
      const now = Date.now();
      for (const e of files.values()) if (e.active === 0 && now - e.lastUsed >= idleMs) forget(e);
    },
    Math.max(10, Math.min(idleMs, 1000)),
  );
  sweeper.unref();

  return {
    append(file, line) {
      if (closed) return Promise.reject(new Error('the line writer is closed'));
      const e = entryFor(file);
      e.active++;
      e.lastUsed = Date.now();
      const bytes = Buffer.from(line.endsWith('\n') ? line : `${line}\n`);
      return e.batcher.add(bytes).finally(() => {
        e.active--;
        e.lastUsed = Date.now();
      });
    },
    async close() {
      closed = true;
      clearInterval(sweeper);
      await Promise.all(
        [...files.values()].map(async (e) => {
          await e.batcher.close();
          await drop(e);
        }),
      );
      files.clear();
    },
  };
}
