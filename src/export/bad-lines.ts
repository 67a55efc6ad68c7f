import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/** A line of the archive that is not an event: torn by a crash, corrupt after a full disk, or not JSON. */
export interface BadLine {
  file: string;
  line: number;
  reason: string;
}

/**
 * Finds the bad lines of one file. why: the engine only says how many lines of a file it could not
 * read; this pass, run only for such files, names them by file:line for the report.
 */
export async function findBadLines(
  file: string,
  maxObjectBytes: number,
  limit = Number.POSITIVE_INFINITY,
): Promise<BadLine[]> {
  const out: BadLine[] = [];
  let line = 0;
  for await (const text of createInterface({
    input: createReadStream(file),
    crlfDelay: Infinity,
  })) {
    line += 1;
    if (out.length >= limit) break;
    if (!text.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      out.push({ file, line, reason: 'not JSON (torn or corrupt line)' });
      continue;
    }
    const e = value as { id?: unknown; type?: unknown } | null;
    if (
      typeof e !== 'object' ||
      e === null ||
      typeof e.id !== 'string' ||
      typeof e.type !== 'string'
    )
      out.push({ file, line, reason: 'not an event (no id or type)' });
    else if (Buffer.byteLength(text) > maxObjectBytes)
      out.push({
        file,
        line,
        reason: `event larger than ${maxObjectBytes / 1048576} MiB, the most the export reads`,
      });
  }
  return out;
}
