import { findBadLines, type BadLine } from './bad-lines.js';
import { MAX_OBJECT_BYTES, readJson, type Archive } from './open-archive.js';
import { scans } from './registry.js';
import type { PlatformLines } from './types.js';

/** What one pass over the archive found: events per platform and the lines that are not events. */
export interface ScanResult {
  files: number;
  /** Readable lines per platform (duplicates included). */
  lines: Map<string, number>;
  /** The first {@link BAD_LINES_KEPT} lines that are not events, by file:line. */
  badLines: BadLine[];
  /** How many lines the engine could not read. */
  badLineCount: number;
}

/** Bad lines named one by one; beyond them only counted. */
export const BAD_LINES_KEPT = 1000;

/** The engine's own pass for a platform without a scan of its own: lines per file, read and not. */
async function countLines(a: Archive, paths: readonly string[]): Promise<PlatformLines> {
  const counts = (
    await a.conn.runAndReadAll(
      `SELECT filename, count(*) FILTER (WHERE id IS NULL OR type IS NULL) AS bad, count(*) AS n FROM ${readJson(paths, { id: 'VARCHAR', type: 'VARCHAR' }, ', filename=true')} GROUP BY 1`,
    )
  ).getRowObjectsJS();
  return {
    lines: counts.reduce((n, r) => n + Number(r['n']) - Number(r['bad']), 0),
    bad: counts.map((r) => ({ file: String(r['filename']), bad: Number(r['bad']) })),
  };
}

/**
 * Reads every file once: counts the lines the engine could not read (then names them by file:line).
 * A platform with a scan of its own (the adapter's `exportScan`) keeps in the same pass what its
 * tables need.
 */
export async function scanArchive(
  a: Archive,
  opts: { trialVariables?: boolean } = {},
): Promise<ScanResult> {
  const lines = new Map<string, number>();
  const badCounts: { file: string; bad: number }[] = [];
  let files = 0;
  for (const [platform, paths] of a.files) {
    files += paths.length;
    if (paths.length === 0) {
      lines.set(platform, 0);
      continue;
    }
    const own = scans.get(platform);
    const found = own
      ? await own({ archive: a, files: paths, trialVariables: opts.trialVariables !== false })
      : await countLines(a, paths);
    lines.set(platform, found.lines);
    badCounts.push(...found.bad);
  }
  const badLines: BadLine[] = [];
  const bad = badCounts.filter((x) => x.bad > 0).sort((x, y) => x.file.localeCompare(y.file));
  // why: a ruined archive must not fill memory with its own error list; the count stays exact.
  // why named by a.original: a file the gateway was appending to is read from a snapshot copy.
  for (const f of bad)
    badLines.push(
      ...(
        await findBadLines(f.file, MAX_OBJECT_BYTES, Math.max(0, BAD_LINES_KEPT - badLines.length))
      ).map((b) => ({ ...b, file: a.original(b.file) })),
    );
  return { files, lines, badLines, badLineCount: bad.reduce((n, f) => n + f.bad, 0) };
}
