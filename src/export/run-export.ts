import { access, constants, mkdir } from 'node:fs/promises';
import { buildTables } from './build-tables.js';
import { ExportError, firstLine } from './export-error.js';
import { openArchive, type Archive, type ArchiveOptions } from './open-archive.js';
import { createProgress } from './progress.js';
import type { BuiltTable } from './types.js';
import type { BadLine } from './bad-lines.js';
import { writeTables } from './write-tables.js';

/** One export: the archive to read, where to write, in which format, and whether to pseudonymise. */
export interface ExportOptions extends Omit<ArchiveOptions, 'pseudonymKey'> {
  out: string;
  format: 'csv' | 'parquet';
  pseudonymize?: string;
  /** Progress lines (stderr in the CLI). */
  progress?: (line: string) => void;
}

export interface ExportResult {
  tables: BuiltTable[];
  files: string[];
  badLines: BadLine[];
  badLineCount: number;
  lines: number;
}

async function writable(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
  } catch (err) {
    throw new ExportError(
      `cannot write to --out ${dir}: ${(err as NodeJS.ErrnoException).code ?? firstLine(err)}`,
    );
  }
}

/** True for the error of a whole number past BIGINT meeting its column's strict cast. */
function overflowed(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause)
    if (/out of range for the destination type INT64/.test(e.message)) return true;
  return false;
}

/**
 * Reads the archive of one namespace and writes its tables and codebook to `opts.out`.
 * why twice at most: whole-number variables are BIGINT columns, which every reader takes; a number
 * past BIGINT (JSON allows up to 2^64 and more) fails their strict cast, and the export then runs
 * again with wider columns for them instead of writing the cell empty.
 */
export async function runExport(opts: ExportOptions): Promise<ExportResult> {
  try {
    return await exportOnce(opts, false);
  } catch (err) {
    if (!overflowed(err)) throw err;
    opts.progress?.(
      'studyhook export: a whole number is too large for a 64-bit integer column; exporting again with wider whole-number columns',
    );
    return exportOnce(opts, true);
  }
}

async function exportOnce(opts: ExportOptions, wideIntegers: boolean): Promise<ExportResult> {
  let archive: Archive | undefined;
  let progress: { step(label: string): void; stop(): void } | undefined;
  try {
    archive = await openArchive({
      ...opts,
      ...(opts.pseudonymize !== undefined && { pseudonymKey: opts.pseudonymize }),
    });
    progress = createProgress(archive.conn, opts.progress ?? (() => undefined));
    await writable(opts.out);
    const { scan, tables } = await buildTables(archive, {
      pseudonymize: opts.pseudonymize !== undefined,
      step: progress.step,
      wideIntegers,
    });
    const header = {
      namespace: opts.namespace,
      format: opts.format,
      pseudonymised: opts.pseudonymize !== undefined,
      ...(opts.since && { since: opts.since.toISOString() }),
      ...(opts.until && { until: opts.until.toISOString() }),
    };
    const files = await writeTables(archive.conn, opts.out, header, tables, progress.step);
    return {
      tables,
      files,
      badLines: scan.badLines,
      badLineCount: scan.badLineCount,
      lines: [...scan.lines.values()].reduce((a, b) => a + b, 0),
    };
  } catch (err) {
    if (err instanceof ExportError) throw err;
    throw new ExportError(firstLine(err), { cause: err });
  } finally {
    progress?.stop();
    await archive?.close();
  }
}
