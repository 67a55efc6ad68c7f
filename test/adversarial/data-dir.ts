import { open, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Every file under `dir` (recursively), or none when it does not exist. */
export async function listFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch {
    return [];
  }
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** Reads the complete lines appended to the JSON-lines files under a directory since the last call. */
export class JsonlTail {
  private readonly offsets = new Map<string, number>();
  constructor(
    private readonly dirOrFile: string,
    private readonly single = false,
  ) {}

  async readNew(): Promise<string[]> {
    const files = this.single
      ? [this.dirOrFile]
      : (await listFiles(this.dirOrFile)).filter((f) => f.endsWith('.jsonl'));
    const lines: string[] = [];
    for (const file of files.sort()) {
      const from = this.offsets.get(file) ?? 0;
      const size = (await stat(file).catch(() => undefined))?.size ?? 0;
      if (size <= from) continue;
      const fh = await open(file, 'r');
      try {
        const buf = Buffer.alloc(size - from);
        await fh.read(buf, 0, buf.length, from);
        const end = buf.lastIndexOf(0x0a) + 1; // why: a line being written is read once it is whole
        this.offsets.set(file, from + end);
        lines.push(...buf.subarray(0, end).toString('utf8').split('\n').filter(Boolean));
      } finally {
        await fh.close();
      }
    }
    return lines;
  }
}

/** The fields of an archived event or a quarantine record that tie it to a request (read without parsing a possibly huge, deep line). */
export interface RecordFields {
  id?: string;
  requestid?: string;
  bodysha256?: string;
  blobs: string[];
}

// why: ids come from headers (up to server.maxHeaderBytes), so the fields before the payload may be long.
const HEAD = 256 * 1024;
const first = (line: string, key: string): string | undefined =>
  new RegExp(`"${key}":"([^"]*)"`).exec(line.slice(0, HEAD))?.[1];

/** Events and quarantine records put these fields before the payload, so the first match is theirs. */
export function recordFields(line: string): RecordFields {
  const blobs = [...line.matchAll(/blob:([0-9a-f-]{36})/g)].map((m) => m[1]!);
  const f: RecordFields = { blobs };
  const id = line.startsWith('{"specversion"') ? first(line, 'id') : undefined;
  const requestid = first(line, 'requestid');
  const bodysha256 = first(line, 'bodysha256');
  if (id !== undefined) f.id = id;
  if (requestid !== undefined) f.requestid = requestid;
  if (bodysha256 !== undefined) f.bodysha256 = bodysha256;
  return f;
}
