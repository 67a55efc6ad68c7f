import { open, readFile, type FileHandle } from 'node:fs/promises';

const NEWLINE = 0x0a;
const SPACE = 0x20;

/**
 * Appends `data` (whole lines, each ending in a newline) to a file opened for appending, in one
 * write(2), so that several processes may append to one file without a torn or blank line.
 *
 * Why this way. Appends to a local file are serialised by the kernel: an O_APPEND write lands after
 * every write before it, never inside one. What is written is never read first (reading the tail
 * to decide on a separating newline raced with another process's write in flight: it saw half a
 * line and added a blank one). One thing can still break a line: a write cut short, by a full disk
 * or by a writer killed in the middle of it (the kernel stops at a page boundary). Its fragment has
 * no newline, and the next append would glue its first line onto it. So, after its write, a writer
 * looks at the byte just before its data: that write is over, whoever made it, so the byte is final.
 * If it is not a newline, the bytes back to the previous newline are a dead fragment (never
 * acknowledged: its writer failed before its fdatasync), and they are overwritten with spaces in
 * place: the line reads as this writer's first line again (JSON allows leading white space). Only
 * the writer right after a fragment sees it, so two never repair the same bytes, and nothing is ever
 * cut off a file that others append to. The repair is made durable by the caller's fdatasync. A
 * fragment at the end of a file waits for the next append; readers ignore a last line without its
 * newline. Left behind: a writer killed between its write and its repair, a second crash within
 * microseconds of the first; that one line is then skipped by readers and reported, and its
 * deliveries, not yet acknowledged, are retried.
 *
 * A short write is not continued (another process may have appended meanwhile, and the rest would
 * start mid-line), nor cut back (another process may have appended after it): the whole lines it
 * took stay, the part of a line it cut is overwritten with spaces, and it throws a ShortWriteError
 * saying how many bytes it kept, so that the caller can count those lines as written.
 */
export async function appendWhole(fh: FileHandle, data: Buffer): Promise<void> {
  const { bytesWritten } = await fh.write(data, 0, data.length);
  const kept =
    bytesWritten === data.length ? bytesWritten : data.lastIndexOf(NEWLINE, bytesWritten - 1) + 1;
  const end = bytesWritten > 0 ? await endOfLastWrite(fh) : undefined;
  if (end !== undefined) {
    const start = end - bytesWritten;
    await repairBefore(fh, start);
    if (kept < bytesWritten) await overwrite(fh, start + kept, end);
  }
  if (bytesWritten < data.length)
    throw new ShortWriteError(bytesWritten > 0 ? kept : 0, data.length);
}

/** A write cut short (a full disk): its first `kept` bytes, whole lines, are in the file; the rest not. */
export class ShortWriteError extends Error {
  readonly code = 'ENOSPC';
  constructor(
    readonly kept: number,
    total: number,
  ) {
    super(`short write: ${kept} of ${total} bytes kept, as whole lines (disk full?)`);
  }
}

/**
 * Where this descriptor's last write ended: its file offset, which Linux shows in /proc (Node has no
 * lseek). Without /proc (macOS, for development) undefined, and fragments are not repaired there.
 */
async function endOfLastWrite(fh: FileHandle): Promise<number | undefined> {
  const info = await readFile(`/proc/self/fdinfo/${fh.fd}`, 'utf8').catch(() => '');
  const pos = /^pos:\s*(\d+)/m.exec(info);
  return pos ? Number(pos[1]) : undefined;
}

/** Overwrites with spaces the fragment (bytes after the last newline) that ends at `start`, if any. */
async function repairBefore(fh: FileHandle, start: number): Promise<void> {
  if (start <= 0 || (await byteAt(fh, start - 1)) === NEWLINE) return;
  await overwrite(fh, await lineStart(fh, start), start);
}

/** Overwrites bytes `from` to `to` of the file with spaces. */
async function overwrite(fh: FileHandle, from: number, to: number): Promise<void> {
  // why: a descriptor without O_APPEND, on which a positional write stays where it is put.
  const rw = await open(`/proc/self/fd/${fh.fd}`, 'r+');
  try {
    await rw.write(Buffer.alloc(to - from, SPACE), 0, to - from, from);
  } finally {
    await rw.close();
  }
}

async function byteAt(fh: FileHandle, position: number): Promise<number | undefined> {
  const b = Buffer.alloc(1);
  const { bytesRead } = await fh.read(b, 0, 1, position);
  return bytesRead === 1 ? b[0] : undefined;
}

/** The offset just after the last newline before `end` (0 if there is none). */
async function lineStart(fh: FileHandle, end: number): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024);
  for (let to = end; to > 0;) {
    const from = Math.max(0, to - chunk.length);
    const { bytesRead } = await fh.read(chunk, 0, to - from, from);
    const nl = chunk.subarray(0, bytesRead).lastIndexOf(NEWLINE);
    if (nl >= 0) return from + nl + 1;
    to = from;
  }
  return 0;
}
