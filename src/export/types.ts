import type { DuckDBConnection } from '@duckdb/node-api';
import type { Archive } from './open-archive.js';
import type { ScanResult } from './scan.js';

/** How a column's values are typed in the output: CSV writes them as text, Parquet with this type. */
export type ColumnType = 'text' | 'integer' | 'number' | 'boolean' | 'time' | 'json';

/** One column of an exported table, as the codebook describes it. */
export interface ColumnDoc {
  name: string;
  type: ColumnType;
  /** What the value means, for the codebook. */
  meaning: string;
  /** Where it comes from: the platform field or event attribute. */
  source: string;
  /** A participant identifier: replaced by a keyed pseudonym under `--pseudonymize`. */
  identifier?: boolean;
  /** Free text that commonly carries personal data: dropped under `--pseudonymize`. */
  personal?: boolean;
  /** Text that can name the participant: under `--pseudonymize`, their identifiers in it become pseudonyms (`pseudoExpr`). */
  mentions?: boolean;
}

/** A column and the SQL expression that computes it (`pseudoExpr`, if given, under --pseudonymize instead of `pseudo(expr)`). */
export interface ColumnSpec extends ColumnDoc {
  expr: string;
  pseudoExpr?: string;
}

/** A table as built in DuckDB: a temporary table of that name holding its rows in their final order. */
export interface BuiltTable {
  name: string;
  platform: string;
  description: string;
  /**
   * The columns written, in order; `pseudonymised` marks identifiers replaced by pseudonyms,
   * `identifiersReplaced` text in which the participant's identifiers were replaced by them.
   */
  columns: (ColumnDoc & { pseudonymised?: boolean; identifiersReplaced?: boolean })[];
  /** Columns left out because they commonly carry personal data (only under --pseudonymize). */
  dropped: ColumnDoc[];
  rows: number;
}

/** What a table builder works with: the open archive and what the scan found. */
export interface TableContext {
  /** The builder being built: the table `createTable` makes and documents. */
  table: { name: string; platform: string };
  archive: Archive;
  conn: DuckDBConnection;
  pseudonymize: boolean;
  /** What the scan found (the trials' variables among it). */
  scan: ScanResult;
  /** False: the tables are only queried (study status), never written: a platform leaves out the per-record variable columns that cost most of the read. Default true. */
  trialVariables?: boolean;
  /**
   * Whole-number variables as UBIGINT (or, with negative ones, their digits as text) instead of
   * BIGINT: set when an export met a number past BIGINT and runs again.
   */
  wideIntegers?: boolean;
}

/** What a platform's own pass over its files found: its readable lines, and per file the lines the engine could not read. */
export interface PlatformLines {
  lines: number;
  bad: { file: string; bad: number }[];
}

/** What a platform's own scan reads: the open archive and the platform's files in it. */
export interface ScanContext {
  archive: Archive;
  files: readonly string[];
  /** As {@link TableContext.trialVariables}, whether the tables will need the variable columns. */
  trialVariables: boolean;
}

/**
 * A platform's single pass over its archive files, run by the export's scan in place of its plain
 * line count: it keeps in DuckDB tables of its own what its tables need (which variables exist, and
 * of which types) and reports the lines it read.
 */
export type ExportScan = (ctx: ScanContext) => Promise<PlatformLines>;

/** Builds one table into a temporary DuckDB table named `name`; returns its description. */
export interface TableBuilder {
  name: string;
  platform: string;
  build(ctx: TableContext): Promise<BuiltTable>;
}
