/**
 * Study data out: the archive (the filesystem sink's JSONL) read by DuckDB into tidy tables.
 * `openArchive` + `buildTables` give the tables as temporary DuckDB tables (for `study status` and
 * other readers); `runExport` also writes them with their codebook.
 */
export { openArchive, type Archive, type ArchiveOptions } from './open-archive.js';
export { buildTables } from './build-tables.js';
export { runExport, type ExportOptions, type ExportResult } from './run-export.js';
export { tables } from './registry.js';
export { pseudonymOf } from './pseudonym.js';
export { ExportError } from './export-error.js';
export type { BuiltTable, ColumnDoc, TableBuilder, TableContext } from './types.js';
