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

/**
 * A file path as a string literal that DuckDB's readers take as that one file. why: they read `*`,
 * `?` and `[` in a path as a glob, so an archive under `Study [2026]/` read the files of `Study 2/`
 * (or none); a glob character inside brackets matches itself.
 */
export function fileLit(path: string): string {
  return lit(path.replace(/[*?[]/g, (c) => `[${c}]`));
}

/** A list of file paths as a DuckDB list literal, each naming one file ({@link fileLit}). */
export function fileList(files: readonly string[]): string {
  return `[${files.map(fileLit).join(', ')}]`;
}

/**
 * Where a file reference's bytes are, from its `uri`: `blobs/<id[0..2]>/<id>` (relative to the data
 * directory) for a `blob:` reference, the `s3://<bucket>/<key>` URI itself for one in a bucket.
 */
export function blobPath(uriExpr: string): string {
  const id = `regexp_replace(${uriExpr}, '^blob:', '')`;
  return `CASE WHEN ${uriExpr} LIKE 'blob:%' THEN 'blobs/' || substr(${id}, 1, 2) || '/' || ${id} ELSE ${uriExpr} END`;
}
