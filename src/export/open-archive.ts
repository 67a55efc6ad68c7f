import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { listArchiveFiles, type ArchiveFiles, type TimeRange } from './archive-files.js';
import { pseudonymMacro, UNIDS_MACRO } from './pseudonym.js';
import { fileSizes, snapshotFile } from './snapshot.js';
import { fileList, lit } from './sql.js';

/** What to open: the archive directory, the namespace, the time range and an optional pseudonym key. */
export interface ArchiveOptions extends TimeRange {
  archiveDir: string;
  namespace: string;
  /** Per platform, the namespace to read instead of `namespace` (a study spanning namespaces); platforms not listed are not read. */
  namespaces?: Readonly<Record<string, string>>;
  /** Turns on `pseudo(x)`: a keyed HMAC pseudonym of a participant identifier. */
  pseudonymKey?: string;
  /** DuckDB's memory limit; past it, sorts and tables spill to a temporary directory. Default 400MB (peak RSS stays under 1 GiB). */
  memoryLimit?: string;
  threads?: number;
  /**
   * Files to read as a copy of their whole lines up to this size (bytes), taken when the archive
   * is opened: files the gateway appended to while an earlier attempt read them.
   */
  snapshot?: ReadonlyMap<string, number>;
}

/** The event attributes every table reads; `data` and extensions are added per table. */
export const BASE_COLUMNS: Record<string, string> = {
  id: 'VARCHAR',
  type: 'VARCHAR',
  time: 'VARCHAR',
  receivedat: 'VARCHAR',
  requestid: 'VARCHAR',
  subject: 'VARCHAR',
  studyid: 'VARCHAR',
  participantid: 'VARCHAR',
  sessionid: 'VARCHAR',
};

/** An archive opened in DuckDB: the files of one namespace, readable as typed relations of events. */
export interface Archive {
  conn: DuckDBConnection;
  files: ArchiveFiles;
  options: ArchiveOptions;
  /** The size of each file read in place (not a snapshot) when the archive was opened. */
  sizes: ReadonlyMap<string, number>;
  /** The archive's own path of a file in `files` (a snapshot's is its copy's). */
  original(file: string): string;
  /** SQL reading one platform's events with these typed columns; `dedupe` keeps one row per event id. */
  events(
    platform: string,
    columns: Record<string, string>,
    opts?: { types?: readonly string[]; dedupe?: boolean; extra?: string },
  ): string;
  close(): Promise<void>;
}

function columnsLiteral(columns: Record<string, string>): string {
  return `{${Object.entries(columns)
    .map(([k, v]) => `${lit(k)}: ${lit(v)}`)
    .join(', ')}}`;
}

/** The largest event line the engine reads; a larger one is reported, not exported. */
export const MAX_OBJECT_BYTES = 16 * 1024 * 1024;

/** The JSON reader's options; `ignore_errors` turns a torn or corrupt line into a row of NULLs, which the scan reports. */
export function readJson(
  files: readonly string[],
  columns: Record<string, string>,
  extra = '',
): string {
  return `read_json(${fileList(files)}, format='newline_delimited', ignore_errors=true, maximum_object_size=${MAX_OBJECT_BYTES}, columns=${columnsLiteral(columns)}${extra})`;
}

/**
 * The temporary directories of archives open in this process (spilled sorts, snapshots: up to
 * gigabytes). why: a second Ctrl-C ends the export at once, without close(); the CLI removes
 * these first (commands/export.ts).
 */
export const liveTempDirs = new Set<string>();

/** Opens the namespace's archive files in an in-process DuckDB whose temporary files live in a fresh directory. */
export async function openArchive(options: ArchiveOptions): Promise<Archive> {
  const files = await listArchiveFiles(
    options.archiveDir,
    options.namespace,
    options,
    options.namespaces,
  );
  // why imported here: every CLI command (the API's too) imports this module; DuckDB's native
  // library adds about 35 MB to each process's memory, and only the export and study commands use it.
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const temp = await mkdtemp(join(tmpdir(), 'studyhook-export-'));
  liveTempDirs.add(temp);
  const origin = new Map<string, string>();
  try {
    for (const list of files.values())
      for (const [i, f] of list.entries()) {
        const size = options.snapshot?.get(f);
        if (size === undefined) continue;
        // why a directory per file: the copy keeps the file's name, which says its day.
        const copy = join(temp, 'snapshot', String(origin.size), basename(f));
        await mkdir(join(copy, '..'), { recursive: true });
        await snapshotFile(f, copy, size);
        origin.set(copy, f);
        list[i] = copy;
      }
  } catch (err) {
    // why: no Archive exists yet whose close() would remove the copies made so far.
    await rm(temp, { recursive: true, force: true });
    liveTempDirs.delete(temp);
    throw err;
  }
  const sizes = await fileSizes([...files.values()].flat().filter((f) => !origin.has(f)));
  const instance = await DuckDBInstance.create(':memory:', {
    memory_limit: options.memoryLimit ?? '400MB',
    // why at most 2: each thread holds buffers of its own, and the memory limit is sized for two;
    // with four, sorting a million trials ran out of it.
    threads: String(options.threads ?? Math.max(1, Math.min(2, availableParallelism()))),
    temp_directory: temp,
    // why: rows must come out in the order the tables sort them, for byte-identical reruns.
    preserve_insertion_order: 'true',
    // why: memory the engine freed goes back to the system soon, so that the process' peak stays
    // near the memory limit instead of holding up to 128 MB more of freed memory.
    allocator_flush_threshold: '16MB',
    allocator_background_threads: 'true',
  });
  const conn = await instance.connect();
  if (options.pseudonymKey !== undefined) {
    await conn.run(pseudonymMacro(options.pseudonymKey));
    await conn.run(UNIDS_MACRO);
  }
  // why: a time without an offset must not depend on the machine's zone.
  await conn.run("SET TimeZone = 'UTC'");
  // why: DuckDB tracks a query's progress only with its progress bar on; the export reads it, DuckDB prints nothing.
  await conn.run('SET enable_progress_bar = true; SET enable_progress_bar_print = false');
  const since = options.since?.toISOString();
  const until = options.until?.toISOString();
  return {
    conn,
    files,
    options,
    sizes,
    original: (file) => origin.get(file) ?? file,
    events(platform, columns, opts = {}) {
      const all = { ...BASE_COLUMNS, ...columns };
      const list = files.get(platform) ?? [];
      if (list.length === 0)
        return `(SELECT ${Object.entries(all)
          .map(([k, v]) => `CAST(NULL AS ${v}) AS "${k}"`)
          .join(', ')} WHERE false)`;
      const where = ['id IS NOT NULL', 'type IS NOT NULL'];
      if (opts.types) where.push(`type IN (${opts.types.map(lit).join(', ')})`);
      if (since) where.push(`receivedat >= ${lit(since)}`);
      if (until) where.push(`receivedat <= ${lit(until)}`);
      // why: at-least-once delivery can archive one event twice; the earliest copy stands for it.
      const dedupe =
        opts.dedupe === false
          ? ''
          : ' QUALIFY row_number() OVER (PARTITION BY id ORDER BY receivedat, requestid, data) = 1';
      return `(SELECT * FROM ${readJson(list, all, opts.extra)} WHERE ${where.join(' AND ')}${dedupe})`;
    },
    async close() {
      conn.closeSync();
      instance.closeSync();
      await rm(temp, { recursive: true, force: true });
      liveTempDirs.delete(temp);
    },
  };
}
