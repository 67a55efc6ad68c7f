/** A problem the user can fix (no archive, unknown namespace, unwritable output): reported as one line, exit 1. */
export class ExportError extends Error {
  override name = 'ExportError';
}

/** The first line of an engine error, without DuckDB's hints. */
export function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}
