import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { ExportError } from './export-error.js';

/** Which events to export: by the time the gateway received them (`receivedat`), inclusive. */
export interface TimeRange {
  since?: Date;
  until?: Date;
}

/** The archive files of one namespace, per platform, in name (day) order. */
export type ArchiveFiles = Map<string, string[]>;

async function dirs(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isDirectory())
    .map((e) => e.name)
    .sort();
}

// why: files are named after the UTC day received, so whole days outside the range are never opened.
function dayInRange(file: string, range: TimeRange): boolean {
  const day = basename(file, '.jsonl');
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day)) return true;
  return (
    (!range.since || day >= range.since.toISOString().slice(0, 10)) &&
    (!range.until || day <= range.until.toISOString().slice(0, 10))
  );
}

/**
 * Lists `<archiveDir>/<platform>/<namespace>/*.jsonl`. A platform appears when it has a directory for
 * the namespace, even with no file in the range (its tables are then empty).
 */
export async function listArchiveFiles(
  archiveDir: string,
  namespace: string,
  range: TimeRange,
  perPlatform?: Readonly<Record<string, string>>,
): Promise<ArchiveFiles> {
  const s = await stat(archiveDir).catch(() => undefined);
  if (!s?.isDirectory())
    throw new ExportError(
      `no archive at ${archiveDir} (give --archive-dir, or the --config whose dataDir holds events/)`,
    );
  const out: ArchiveFiles = new Map();
  const namespaces = new Set<string>();
  for (const platform of await dirs(archiveDir)) {
    const names = await dirs(join(archiveDir, platform)).catch((): string[] => []);
    names.forEach((n) => namespaces.add(n));
    // why: a study spans platforms under a namespace each (`studies.<name>.namespaces`); only those are read.
    const wanted = perPlatform
      ? Object.hasOwn(perPlatform, platform)
        ? perPlatform[platform]
        : undefined
      : namespace;
    if (wanted === undefined || !names.includes(wanted)) continue;
    const dir = join(archiveDir, platform, wanted);
    const files = (await readdir(dir))
      .filter((f) => f.endsWith('.jsonl'))
      .sort()
      .map((f) => join(dir, f));
    out.set(
      platform,
      files.filter((f) => dayInRange(f, range)),
    );
  }
  if (out.size === 0) {
    const known = [...namespaces].sort().join(', ') || 'none';
    const what = perPlatform
      ? Object.entries(perPlatform)
          .map(([p, n]) => `${p}/${n}`)
          .join(', ')
      : `namespace '${namespace}'`;
    throw new ExportError(`no ${what} in the archive ${archiveDir} (namespaces there: ${known})`);
  }
  return out;
}
