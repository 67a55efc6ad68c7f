import { createReadStream, createWriteStream } from 'node:fs';
import { open, stat, truncate, writeFile } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';

/**
 * Each file's size in bytes (-1 when it is gone). why: the export reads the archive more than once
 * (a scan learns the trials' variables, types and counts; a second read writes them), and the
 * gateway appends to it meanwhile; comparing sizes tells whether both reads saw the same lines.
 */
export async function fileSizes(files: Iterable<string>): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const f of files)
    out.set(
      f,
      await stat(f).then(
        (s) => s.size,
        () => -1,
      ),
    );
  return out;
}

/**
 * The files whose size is no longer the one recorded, with their size now. why not those gone: a
 * file removed after both reads was read whole, and one removed between them failed the export.
 */
export async function grownFiles(sizes: ReadonlyMap<string, number>): Promise<Map<string, number>> {
  const now = await fileSizes(sizes.keys());
  return new Map([...now].filter(([f, n]) => n >= 0 && n !== sizes.get(f)));
}

/** Where the last line break of the first `size` bytes of `file` is (-1: none). */
async function lastNewline(file: string, size: number): Promise<number> {
  const fh = await open(file, 'r');
  try {
    const buf = Buffer.alloc(64 * 1024);
    for (let end = size; end > 0;) {
      const start = Math.max(0, end - buf.length);
      const { bytesRead } = await fh.read(buf, 0, end - start, start);
      const i = buf.subarray(0, bytesRead).lastIndexOf(0x0a);
      if (i >= 0) return start + i;
      end = start;
    }
    return -1;
  } finally {
    await fh.close();
  }
}

/**
 * Copies the whole lines of the first `size` bytes of `src` to `dst`: a fixed copy of a file the
 * gateway is appending to, so that every read of the export sees the same lines. why cut at the
 * last line break: the line after it is still being written.
 */
export async function snapshotFile(src: string, dst: string, size: number): Promise<void> {
  if (size <= 0) return writeFile(dst, '');
  await pipeline(createReadStream(src, { start: 0, end: size - 1 }), createWriteStream(dst));
  await truncate(dst, (await lastNewline(dst, size)) + 1);
}
