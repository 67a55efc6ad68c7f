import { access, constants, mkdir, readdir } from 'node:fs/promises';
import { buildTables } from './build-tables.js';
import { ExportError, firstLine } from './export-error.js';
import { openArchive, type Archive, type ArchiveOptions } from './open-archive.js';
import { createProgress } from './progress.js';
import { tables as registry } from './registry.js';
import { grownFiles } from './snapshot.js';
import type { BuiltTable } from './types.js';
import type { BadLine } from './bad-lines.js';
import { writeTables } from './write-tables.js';

/** One export: the archive to read, where to write, in which format, and whether to pseudonymise. */
export interface ExportOptions extends Omit<ArchiveOptions, 'pseudonymKey' | 'snapshot'> {
  out: string;
  format: 'csv' | 'parquet';
  pseudonymize?: string;
  /** Progress lines (stderr in the CLI). */
  progress?: (line: string) => void;
  /** Called before each step with a short label (`... building <table>`, `writing <table> ...`). */
  step?: (label: string) => void;
  /** Stops the export (Ctrl-C): the running query is interrupted and the run cleans up as on an error. */
  signal?: AbortSignal;
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

/**
 * Refuses a pseudonymised export into a directory that holds table files this run will not replace
 * (another format's, or tables of a platform not read this time). why: they are left as they were,
 * and an earlier plain export's files hold the identifiers next to a codebook saying
 * "Pseudonymised": a directory made to be shared then held both.
 */
async function noOtherTables(archive: Archive, opts: ExportOptions): Promise<void> {
  const written = new Set(
    registry.filter((t) => archive.files.has(t.platform)).map((t) => `${t.name}.${opts.format}`),
  );
  const names = new Set(registry.map((t) => t.name));
  const other = (await readdir(opts.out)).filter((f) => {
    const m = /^(.*)\.(csv|parquet)$/.exec(f);
    return m !== null && names.has(m[1]!) && !written.has(f);
  });
  if (other.length > 0)
    throw new ExportError(
      `--out ${opts.out} holds ${other.sort().join(', ')} from an earlier export, which this pseudonymised export would not replace: export into an empty directory (or remove them)`,
    );
}

/** True for the error of a whole number past BIGINT meeting its column's strict cast. */
function overflowed(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause)
    if (/out of range for the destination type INT64/.test(e.message)) return true;
  return false;
}

/** How many times an export reads the archive again when the gateway appended to it meanwhile. */
const MAX_ATTEMPTS = 4;

/**
 * Reads the archive of one namespace and writes its tables and codebook to `opts.out`.
 * why again with wider integers: whole-number variables are BIGINT columns, which every reader
 * takes; a number past BIGINT (JSON allows up to 2^64 and more) fails their strict cast, and the
 * export then runs again with wider columns for them instead of writing the cell empty.
 * why again with snapshots: the trials are read twice (a scan learns their variables, types and
 * counts, then they are written), and lines the gateway appended in between were written unscanned:
 * a redelivered copy as a second row, a value of another type empty or rounded. A file that grew
 * while it was read is then read from a copy of its lines as they were at the end of that attempt.
 */
export async function runExport(opts: ExportOptions): Promise<ExportResult> {
  // why: a range that holds no instant exported every table empty with exit code 0.
  if (opts.since && opts.until && opts.since > opts.until)
    throw new ExportError(
      `--since ${opts.since.toISOString()} is after --until ${opts.until.toISOString()}: no event is in that range`,
    );
  // why: the CLI refuses an empty key, the API did not: HMAC with an empty key is one anyone can
  // compute, so every pseudonym could be recomputed from a guessed identifier.
  if (opts.pseudonymize === '')
    throw new ExportError(
      'pseudonymize needs a key (keep it secret; the same key gives the same pseudonyms)',
    );
  let wide = false;
  let snapshot = new Map<string, number>();
  for (let attempt = 1; ; attempt++) {
    try {
      const { result, grown } = await exportOnce(opts, wide, snapshot);
      if (grown.size === 0 || attempt >= MAX_ATTEMPTS) return result;
      opts.progress?.(
        `studyhook export: ${grown.size} archive file(s) grew while they were read; exporting again from a copy of them`,
      );
      snapshot = new Map([...snapshot, ...grown]);
    } catch (err) {
      if (wide || !overflowed(err)) throw err;
      opts.progress?.(
        'studyhook export: a whole number is too large for a 64-bit integer column; exporting again with wider whole-number columns',
      );
      wide = true;
    }
  }
}

async function exportOnce(
  opts: ExportOptions,
  wideIntegers: boolean,
  snapshot: ReadonlyMap<string, number>,
): Promise<{ result: ExportResult; grown: Map<string, number> }> {
  let archive: Archive | undefined;
  let progress: { step(label: string): void; stop(): void } | undefined;
  try {
    archive = await openArchive({
      ...opts,
      ...(opts.pseudonymize !== undefined && { pseudonymKey: opts.pseudonymize }),
      snapshot,
    });
    const conn = archive.conn;
    // why: killed by Ctrl-C, an export left its .part file in --out and its temporary directory
    // (spilled sorts, snapshots: up to gigabytes) behind; interrupted, it removes both.
    const interrupt = () => conn.interrupt();
    opts.signal?.addEventListener('abort', interrupt);
    const shown = createProgress(conn, opts.progress ?? (() => undefined));
    progress = {
      step: (label) => {
        shown.step(label);
        opts.step?.(label);
        opts.signal?.throwIfAborted();
      },
      stop: () => {
        shown.stop();
        opts.signal?.removeEventListener('abort', interrupt);
      },
    };
    await writable(opts.out);
    if (opts.pseudonymize !== undefined) await noOtherTables(archive, opts);
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
      result: {
        tables,
        files,
        badLines: scan.badLines,
        badLineCount: scan.badLineCount,
        lines: [...scan.lines.values()].reduce((a, b) => a + b, 0),
      },
      grown: await grownFiles(archive.sizes),
    };
  } catch (err) {
    if (opts.signal?.aborted) throw new ExportError('interrupted; no file was left half-written');
    if (err instanceof ExportError) throw err;
    throw new ExportError(firstLine(err), { cause: err });
  } finally {
    progress?.stop();
    await archive?.close();
  }
}
