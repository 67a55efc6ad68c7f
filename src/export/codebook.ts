import type { BuiltTable } from './types.js';

/** What the codebook says about the export as a whole. */
export interface CodebookHeader {
  namespace: string;
  format: 'csv' | 'parquet';
  since?: string;
  until?: string;
  pseudonymised: boolean;
}

const TYPES: Record<string, string> = {
  text: 'text',
  integer: 'integer',
  number: 'number (decimal)',
  boolean: 'boolean (true/false)',
  time: 'time: ISO 8601 text, UTC',
  json: 'JSON text (an array, or an object nested deeper than one level)',
};

/** codebook.json: the header and, per table, its file, rows and columns (stable: no run time, no paths). */
export function codebookJson(h: CodebookHeader, tables: readonly BuiltTable[]): string {
  return `${JSON.stringify({ ...h, tables: tables.map((t) => ({ name: t.name, file: `${t.name}.${h.format}`, platform: t.platform, rows: t.rows, description: t.description, columns: t.columns, dropped: t.dropped })) }, null, 2)}\n`;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** codebook.md: the same as a document to read. */
export function codebookMarkdown(h: CodebookHeader, tables: readonly BuiltTable[]): string {
  const out = [`# Codebook: namespace \`${h.namespace}\``, ''];
  out.push(
    `Exported by \`studyhook export\` from the archive, as ${h.format === 'csv' ? 'CSV (UTF-8, comma-separated, RFC 4180 quoting; an empty field is a missing value, `""` an empty text)' : 'Parquet'}.`,
  );
  out.push(
    `Events received ${h.since ? `from ${h.since}` : 'from the start'} ${h.until ? `until ${h.until}` : 'until the export'}; an event archived twice (same id) counts once.`,
  );
  if (h.pseudonymised) {
    out.push(
      '',
      "**Pseudonymised.** Every participant identifier was replaced by `p` + the first 20 hex digits of HMAC-SHA256(key, identifier): the same identifier gives the same pseudonym in every table and every export made with the same key, so tables still join. Free-text fields that commonly carry personal data were left out. The participant's identifiers inside file names, trial variables, meta fields and error messages were replaced by their pseudonyms, and trial variables and meta fields named as identifiers (participant_id, subject_id, worker_id…) were pseudonymised whole, as were such members inside JSON text; identifiers in column names were replaced too; trial variables are otherwise exported as recorded: check them for personal data before sharing.",
    );
  }
  for (const t of tables) {
    out.push(
      '',
      `## ${t.name}`,
      '',
      `File \`${t.name}.${h.format}\`, ${t.rows} row(s). ${t.description}`,
      '',
      '| column | type | meaning | source |',
      '|---|---|---|---|',
    );
    for (const c of t.columns)
      out.push(
        `| \`${cell(c.name)}\` | ${TYPES[c.type]} | ${cell(c.meaning)}${c.pseudonymised ? ' **(pseudonymised)**' : ''}${c.identifiersReplaced ? " **(the participant's identifiers in it pseudonymised)**" : ''} | ${cell(c.source)} |`,
      );
    if (t.dropped.length > 0)
      out.push(
        '',
        `Left out (personal data): ${t.dropped.map((c) => `\`${c.name}\``).join(', ')}.`,
      );
  }
  return `${out.join('\n')}\n`;
}
