import type { Archive } from '../../src/export/open-archive.js';
import { lit } from '../../src/export/sql.js';
import {
  addKeys,
  fitColumns,
  MAX_VARIABLE_COLUMNS,
  pointer,
  type JsonType,
  type KeyTable,
} from '../../src/export/variables.js';
import { labvancedSource, rows } from './export-scan.js';

type Row = Record<string, unknown>;
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

/** Adds the JSON types found at `ptrs` (in `types` lists aligned with `keys`) to the key table. */
function addTypes(table: KeyTable, keys: readonly string[], found: Row[]): void {
  for (const r of found) {
    const types = Array.isArray(r['t']) ? (r['t'] as unknown[]) : [];
    // why: a key the row lacks has no type (SQL NULL); a JSON null is 'NULL'.
    keys.forEach((k, i) => {
      const t = types[i];
      if (typeof t === 'string') table.get(k)?.types.add(t as JsonType);
    });
  }
}

/** The JSON types of `ptrs` over every trial, grouped: one pass. */
const typesAt = (a: Archive, src: string, ptrs: readonly string[]): Promise<Row[]> =>
  rows(
    a,
    `SELECT json_type(vars, [${ptrs.map(lit).join(', ')}]) AS t FROM ${src} WHERE trial GROUP BY 1`,
  );

/**
 * The fields of the object variables `objects`, each in first-seen trial order: one pass for all
 * of them. why together: one pass per object variable read the archive again for each of them.
 */
async function discoverNested(
  a: Archive,
  src: string,
  table: KeyTable,
  objects: readonly string[],
): Promise<void> {
  const ptrs = objects.map((k) => pointer([k]));
  // why: json_keys gives [] where the variable is not an object (and NULL where it is missing).
  const sets = await rows(
    a,
    `SELECT json_keys(vars, [${ptrs.map(lit).join(', ')}]) AS keys, min(k) AS k FROM ${src} WHERE trial GROUP BY 1 ORDER BY 2`,
  );
  const nested = objects.map(() => new Map() as KeyTable);
  for (const s of sets) {
    const per = Array.isArray(s['keys']) ? (s['keys'] as unknown[]) : [];
    objects.forEach((_, i) => addKeys(nested[i]!, list(per[i])));
  }
  objects.forEach((k, i) => (table.get(k)!.nested = nested[i]!));
}

/** Types of the fields of the object variables that keep a column per field: one pass. */
async function typeNested(a: Archive, src: string, table: KeyTable): Promise<void> {
  const fields = [...table].flatMap(([k, f]) =>
    [...(f.nested ?? new Map()).keys()].map((nk) => ({ k, nk })),
  );
  if (fields.length === 0) return;
  const found = await typesAt(
    a,
    src,
    fields.map((x) => pointer([x.k, x.nk])),
  );
  for (const r of found) {
    const types = Array.isArray(r['t']) ? (r['t'] as unknown[]) : [];
    fields.forEach((x, i) => {
      const t = types[i];
      if (typeof t === 'string')
        table
          .get(x.k)!
          .nested!.get(x.nk)
          ?.types.add(t as JsonType);
    });
  }
}

/**
 * The trials' variables in first-seen order with their JSON types, from what the scan kept in
 * `lv_scan`, at most {@link MAX_VARIABLE_COLUMNS} columns of them (`keys`), and the names of the
 * variables beyond (`rest`), which get no column of their own. why: another pass over the archive
 * runs only for variables the scan's sample missed, and to look inside object variables.
 */
export async function trialKeys(a: Archive): Promise<{ keys: KeyTable; rest: string[] }> {
  const all: KeyTable = new Map();
  // why: with no file in the range the scan did not run.
  if ((a.files.get('labvanced') ?? []).length === 0) return { keys: all, rest: [] };
  const guess = list((await rows(a, 'SELECT keys FROM lv_guess'))[0]?.['keys']);
  const found = await rows(
    a,
    'SELECT keys, t FROM lv_scan WHERE ev IS NULL AND keys IS NOT NULL ORDER BY k NULLS LAST',
  );
  for (const r of found) addKeys(all, list(r['keys']));
  addTypes(all, guess, found);
  // why capped before any further pass: each pass looks at the variables it is given in every trial.
  const first = fitColumns(all, MAX_VARIABLE_COLUMNS);
  const table = first.kept;
  const missed = [...table.keys()].filter((k) => !guess.includes(k));
  const src = labvancedSource(a);
  if (missed.length > 0)
    addTypes(
      table,
      missed,
      await typesAt(
        a,
        src,
        missed.map((k) => pointer([k])),
      ),
    );
  const objects = [...table].filter(([, f]) => f.types.has('OBJECT')).map(([k]) => k);
  if (objects.length > 0) await discoverNested(a, src, table, objects);
  // why again: an object variable takes a column per field, known only now.
  const fitted = fitColumns(table, MAX_VARIABLE_COLUMNS);
  await typeNested(a, src, fitted.kept);
  return { keys: fitted.kept, rest: [...fitted.rest, ...first.rest] };
}
