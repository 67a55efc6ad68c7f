import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';

const chains = new Map<string, Promise<void>>();

// why: one write() per line with O_APPEND keeps lines whole across processes; the per-file chain
// keeps this process's appends in order, and fsync makes an acknowledged line survive a crash.
async function appendNow(file: string, line: string, fsync: boolean): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const fh = await open(file, 'a');
  try {
    await fh.write(line.endsWith('\n') ? line : `${line}\n`);
    if (fsync) await fh.datasync();
  } finally {
    await fh.close();
  }
}

/** Appends one line to a file, durably (fsync) unless told otherwise. */
export function appendLine(file: string, line: string, fsync = true): Promise<void> {
  const prev = chains.get(file) ?? Promise.resolve();
  const next = prev.catch(() => undefined).then(() => appendNow(file, line, fsync));
  chains.set(file, next);
  void next.finally(() => { if (chains.get(file) === next) chains.delete(file); }).catch(() => undefined);
  return next;
}

/** `YYYY-MM-DD` (UTC) of an ISO timestamp, for daily files. */
export function dayOf(iso: string): string {
  return iso.slice(0, 10);
}
