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

/** Reads the archive of one namespace and writes its tables and codebook to `opts.out`. */
export async function runExport(opts: ExportOptions): Promise<ExportResult> {
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
