import { open } from 'node:fs/promises';

/** One newline-terminated line of a file: its bytes (without the newline) and where it lies. */
export interface Line {
  bytes: Buffer;
  /** Byte offset of its first byte. */
  start: number;
  /** Byte offset just after its newline: where the next line starts. */
  end: number;
  /** 1-based line number, counted from `from`. */
  number: number;
}

const NEWLINE = 0x0a;

/**
 * Streams the newline-terminated lines of a file from byte `from`, a chunk at a time, so memory
 * holds one chunk and one line, not the file. A last line without its newline (a write cut off
 * by a crash, never acknowledged) is not yielded; `end` of the last line yielded is where it starts.
 */
export async function* readLines(
  path: string,
  from = 0,
  chunkBytes = 1 << 20,
): AsyncGenerator<Line> {
  const fh = await open(path, 'r');
  try {
    const chunk = Buffer.alloc(chunkBytes);
    let pending: Buffer[] = [];
    let pendingStart = from;
    let position = from;
    let number = 0;
    for (;;) {
      const { bytesRead } = await fh.read(chunk, 0, chunkBytes, position);
      if (bytesRead === 0) return;
      let at = 0;
      for (
        let nl = chunk.indexOf(NEWLINE, at);
        nl >= 0 && nl < bytesRead;
        nl = chunk.indexOf(NEWLINE, at)
      ) {
        pending.push(chunk.subarray(at, nl));
        const bytes = pending.length === 1 ? Buffer.from(pending[0]!) : Buffer.concat(pending);
        const end = position + nl + 1;
        yield { bytes, start: pendingStart, end, number: ++number };
        pending = [];
        pendingStart = end;
        at = nl + 1;
      }
      // why: a copy, because the chunk buffer is reused for the next read.
      if (at < bytesRead) pending.push(Buffer.from(chunk.subarray(at, bytesRead)));
      position += bytesRead;
    }
  } finally {
    await fh.close();
  }
}

/** A line that could not be read as JSON, for the caller to report (file:line) and skip. */
export interface BadLine {
  file: string;
  line: number;
  start: number;
  error: string;
}

/**
 * Streams the JSON values of a JSONL file, skipping blank lines; a line that is not JSON is handed
 * to `onBad` and skipped, so one torn or corrupt line never stops a reader.
 */
export async function* readJsonLines<T = unknown>(
  path: string,
  onBad: (bad: BadLine) => void,
  from = 0,
): AsyncGenerator<{ value: T; line: Line }> {
  for await (const line of readLines(path, from)) {
    const text = line.bytes.toString('utf8');
    if (text.trim() === '') continue;
    let value: T;
    try {
      value = JSON.parse(text) as T;
    } catch (err) {
      onBad({ file: path, line: line.number, start: line.start, error: (err as Error).message });
      continue;
    }
    yield { value, line };
  }
}
