import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { appendWhole } from './append-whole.js';

/** Owner read/write, group read, nothing for others: colleagues in the group may read data, the world may not. */
export const DEFAULT_FILE_MODE = 0o640;

/** The directory mode that goes with a file mode: search (x) wherever read (r) is allowed. */
export function dirModeOf(fileMode: number): number {
  return fileMode | ((fileMode & 0o444) >> 2);
}

export interface AppendOptions {
  /** fdatasync before resolving (default true): an acknowledged line survives a crash. */
  fsync?: boolean;
  /** Mode of a file (and, with x added, of directories) this call creates. */
  fileMode?: number;
}

const chains = new Map<string, Promise<void>>();

// why: one O_APPEND write per line keeps lines whole across processes; the per-file chain keeps
// this process's appends in order; appendWhole repairs a fragment its line would glue onto.
async function appendNow(file: string, line: Buffer, opts: AppendOptions): Promise<void> {
  const fileMode = opts.fileMode ?? DEFAULT_FILE_MODE;
  await mkdir(dirname(file), { recursive: true, mode: dirModeOf(fileMode) });
  const fh = await open(file, 'a+', fileMode); // why: a+ so that appendWhole may read the byte before its write
  try {
    await appendWhole(fh, line);
    if (opts.fsync ?? true) await fh.datasync();
  } finally {
    await fh.close();
  }
}

/** Appends one line to a file, whole or not at all, durably (fsync) unless told otherwise. */
export function appendLine(file: string, line: string, opts: AppendOptions = {}): Promise<void> {
  const bytes = Buffer.from(line.endsWith('\n') ? line : `${line}\n`);
  const prev = chains.get(file) ?? Promise.resolve();
  const next = prev.catch(() => undefined).then(() => appendNow(file, bytes, opts));
  chains.set(file, next);
  void next
    .finally(() => {
      if (chains.get(file) === next) chains.delete(file);
    })
    .catch(() => undefined);
  return next;
}

/** `YYYY-MM-DD` (UTC) of an ISO timestamp, for daily files. */
export function dayOf(iso: string): string {
  return iso.slice(0, 10);
}
