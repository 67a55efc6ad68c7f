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
  /** The columns written, in order; `pseudonymised` marks identifiers replaced by pseudonyms. */
  columns: (ColumnDoc & { pseudonymised?: boolean })[];
  /** Columns left out because they commonly carry personal data (only under --pseudonymize). */
  dropped: ColumnDoc[];
  rows: number;
}

/** What a table builder works with: the open archive and what the scan found. */
export interface TableContext {
  archive: Archive;
  conn: DuckDBConnection;
  pseudonymize: boolean;
  /** What the scan found (the trials' variables among it). */
  scan: ScanResult;
  /** False: `labvanced_trials` without its variable columns (study status needs only where each trial is). Default true. */
  trialVariables?: boolean;
}

/** Builds one table into a temporary DuckDB table named `name`; returns its description. */
export interface TableBuilder {
  name: string;
  platform: string;
  build(ctx: TableContext): Promise<BuiltTable>;
}
