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

/** How the codebook names, among the variables without a column, `recData.data` that is not an object. */
export const NOT_AN_OBJECT = '(recData.data not an object)';

/**
 * The distinct JSON types at each position of the lists `t` of `from`, as [0-based position, type].
 * why counted in SQL, not in Node: trials that name a variable each make as many distinct lists as
 * trials, and reading them filled gigabytes of heap. A key the row lacks has no type (SQL NULL); a
 * JSON null is 'NULL'.
 */
async function typesByPosition(a: Archive, from: string): Promise<[number, JsonType][]> {
  const found = await rows(
    a,
    `SELECT i, ty FROM (SELECT unnest(t) AS ty, generate_subscripts(t, 1) AS i FROM ${from}) WHERE ty IS NOT NULL GROUP BY ALL`,
  );
  return found.map((r) => [Number(r['i']) - 1, String(r['ty']) as JsonType]);
}

/**
 * The distinct JSON types of the variables `keys` over the scan's groups, whose lists `keys` and
 * `t` go in the same order (both empty where a trial's variables are not an object). why only for
 * the given keys: trials that name a variable each have one name per trial, and only the variables
 * that get a column need a type.
 */
async function typesOf(
  a: Archive,
  groups: string,
  keys: readonly string[],
): Promise<[string, JsonType][]> {
  if (keys.length === 0) return [];
  const found = await rows(
    a,
    `SELECT key, ty FROM (SELECT unnest(keys) AS key, unnest(t) AS ty FROM ${groups})
      WHERE ty IS NOT NULL AND list_contains([${keys.map(lit).join(', ')}]::VARCHAR[], key) GROUP BY ALL`,
  );
  return found.map((r) => [String(r['key']), String(r['ty']) as JsonType]);
}

/** The JSON types of the variables at `ptrs` over every trial: one pass. */
const typesAt = (a: Archive, src: string, ptrs: readonly string[]): Promise<[number, JsonType][]> =>
  typesByPosition(
    a,
    `(SELECT json_type(vars, [${ptrs.map(lit).join(', ')}]) AS t FROM ${src} WHERE trial)`,
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
  // First-seen order per object, as for the variables themselves, counted in SQL for the same reason.
  const found = await rows(
    a,
    `SELECT j, key FROM (SELECT j, unnest(ks) AS key, generate_subscripts(ks, 1) AS pos, k FROM (SELECT generate_subscripts(l, 1) AS j, unnest(l) AS ks, k FROM (SELECT json_keys(vars, [${ptrs.map(lit).join(', ')}]) AS l, k FROM ${src} WHERE trial))) GROUP BY j, key ORDER BY j, min(k), arg_min(pos, k)`,
  );
  const nested = objects.map(() => new Map() as KeyTable);
  for (const r of found) addKeys(nested[Number(r['j']) - 1]!, [String(r['key'])]);
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
  for (const [i, ty] of found) table.get(fields[i]!.k)!.nested!.get(fields[i]!.nk)?.types.add(ty);
}

/**
 * The trials' variables in first-seen order with their JSON types, from what the scan kept in
 * `lv_scan`, at most {@link MAX_VARIABLE_COLUMNS} columns of them (`keys`), and the names of the
 * variables beyond (`rest`), which get no column of their own. why: another pass over the archive
 * runs only to look inside object variables.
 */
export async function trialKeys(a: Archive): Promise<{ keys: KeyTable; rest: string[] }> {
  const all: KeyTable = new Map();
  // why: with no file in the range the scan did not run.
  if ((a.files.get('labvanced') ?? []).length === 0) return { keys: all, rest: [] };
  // why aggregated here, not in Node: trials that name a variable each leave one scan group per
  // trial, and their key and type lists filled gigabytes of heap.
  // First-seen order: by the first trial (k) that has the key, then its place in that trial.
  const groups = '(SELECT keys, t, k FROM lv_scan WHERE ev IS NULL AND keys IS NOT NULL)';
  const order = await rows(
    a,
    `SELECT key FROM (SELECT unnest(keys) AS key, generate_subscripts(keys, 1) AS pos, k FROM ${groups}) GROUP BY key ORDER BY min(k), arg_min(pos, k)`,
  );
  addKeys(
    all,
    order.map((r) => String(r['key'])),
  );
  // why capped before the types are read: only variables with a column of their own need one.
  const first = fitColumns(all, MAX_VARIABLE_COLUMNS);
  const table = first.kept;
  for (const [k, ty] of await typesOf(a, groups, [...table.keys()])) table.get(k)?.types.add(ty);
  const src = labvancedSource(a);
  const objects = [...table].filter(([, f]) => f.types.has('OBJECT')).map(([k]) => k);
  if (objects.length > 0) await discoverNested(a, src, table, objects);
  // why again: an object variable takes a column per field, known only now.
  const fitted = fitColumns(table, MAX_VARIABLE_COLUMNS);
  await typeNested(a, src, fitted.kept);
  // why: what a trial whose variables are not an object recorded has no column; the column of
  // every variable (`variables`) keeps it.
  const odd = await rows(a, 'SELECT 1 FROM lv_scan WHERE odd LIMIT 1');
  const shapes = odd.length > 0 ? [NOT_AN_OBJECT] : [];
  return { keys: fitted.kept, rest: [...fitted.rest, ...first.rest, ...shapes] };
}
