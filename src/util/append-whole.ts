import type { FileHandle } from 'node:fs/promises';

const NEWLINE = 0x0a;

/**
 * Appends `line` (which ends in a newline) to a file opened for appending, whole or not at all.
 *
 * - Short writes are looped on: a write(2) may take only part of the bytes (a disk filling up).
 * - If a write fails part-way, the partial bytes are cut off again (ftruncate to the size before),
 *   but only when the file still ends exactly there: with O_APPEND another process may have
 *   appended meanwhile, and cutting would destroy its line. Then the fragment stays, and the
 *   check below keeps it from gluing onto the next line.
 * - If the file does not end in a newline (a fragment left by a failed write of any process), the
 *   line is written after a newline, so the fragment becomes a bad line of its own that readers
 *   skip and report, instead of corrupting this one.
 */
export async function appendWhole(fh: FileHandle, line: Buffer): Promise<void> {
  const before = (await fh.stat()).size;
  const data =
    before > 0 && !(await endsWithNewline(fh, before))
      ? Buffer.concat([Buffer.from('\n'), line])
      : line;
  let written = 0;
  try {
    while (written < data.length) {
      const { bytesWritten } = await fh.write(data, written, data.length - written);
      // why: a regular file only takes 0 bytes when it cannot take any; looping would spin.
      if (bytesWritten === 0)
        throw Object.assign(new Error('write took no bytes (disk full?)'), { code: 'ENOSPC' });
      written += bytesWritten;
    }
  } catch (err) {
    if (written > 0) await undo(fh, before, written);
    throw err;
  }
}

async function endsWithNewline(fh: FileHandle, size: number): Promise<boolean> {
  const last = Buffer.alloc(1);
  const { bytesRead } = await fh.read(last, 0, 1, size - 1);
  return bytesRead === 1 && last[0] === NEWLINE;
}

async function undo(fh: FileHandle, before: number, written: number): Promise<void> {
  try {
    if ((await fh.stat()).size === before + written) await fh.truncate(before);
  } catch {
    /* a second fault: the fragment stays, and the next append starts on a new line */
  }
}
