import type { Archive } from '../../src/export/open-archive.js';
import { lit } from '../../src/export/sql.js';
import { addKeys, pointer, type JsonType, type KeyTable } from '../../src/export/variables.js';
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

/** Keys of the object at `ptr` in first-seen trial order, then their types: one pass each. */
async function discoverNested(a: Archive, src: string, ptr: string): Promise<KeyTable> {
  const table: KeyTable = new Map();
  const sigs = await rows(
    a,
    `SELECT json_keys(vars, ${lit(ptr)}) AS keys, min(k) AS k FROM ${src} WHERE trial AND json_type(vars, ${lit(ptr)}) = 'OBJECT' GROUP BY 1 ORDER BY 2`,
  );
  for (const s of sigs) addKeys(table, list(s['keys']));
  const keys = [...table.keys()];
  if (keys.length > 0)
    addTypes(
      table,
      keys,
      await rows(
        a,
        `SELECT json_type(vars, [${keys.map((k) => lit(ptr + pointer([k]))).join(', ')}]) AS t FROM ${src} WHERE trial GROUP BY 1`,
      ),
    );
  return table;
}

/**
 * The trials' variables in first-seen order with their JSON types, from what the scan kept in
 * `lv_scan`. why: another pass over the archive runs only for variables the scan's sample missed,
 * or to look inside object variables.
 */
export async function trialKeys(a: Archive): Promise<KeyTable> {
  const table: KeyTable = new Map();
  // why: with no file in the range the scan did not run.
  if ((a.files.get('labvanced') ?? []).length === 0) return table;
  const guess = list((await rows(a, 'SELECT keys FROM lv_guess'))[0]?.['keys']);
  const found = await rows(
    a,
    'SELECT keys, t FROM lv_scan WHERE ev IS NULL AND keys IS NOT NULL ORDER BY k NULLS LAST',
  );
  for (const r of found) addKeys(table, list(r['keys']));
  addTypes(table, guess, found);
  const missed = [...table.keys()].filter((k) => !guess.includes(k));
  const src = labvancedSource(a);
  if (missed.length > 0)
    addTypes(
      table,
      missed,
      await rows(
        a,
        `SELECT json_type(vars, [${missed.map((k) => lit(pointer([k]))).join(', ')}]) AS t FROM ${src} WHERE trial GROUP BY 1`,
      ),
    );
  for (const [key, facts] of table)
    if (facts.types.has('OBJECT')) facts.nested = await discoverNested(a, src, pointer([key]));
  return table;
}
