/** A SQL string literal. */
export function lit(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A quoted SQL identifier (column, struct field): any name, dots and quotes included. */
export function ident(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/**
 * Sort keys for an id that is usually a number but arrives as text: numbers first in numeric order,
 * then the rest as text, so `9` sorts before `10` and the order never depends on how it was sent.
 */
export function idOrder(expr: string): string {
  return `TRY_CAST(${expr} AS DOUBLE) NULLS LAST, ${expr} NULLS LAST`;
}

/** A list of file paths as a DuckDB list literal. */
export function fileList(files: readonly string[]): string {
  return `[${files.map(lit).join(', ')}]`;
}
