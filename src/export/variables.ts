import type { ColumnType } from './types.js';

/** DuckDB's `json_type` names. */
export type JsonType =
  'VARCHAR' | 'BOOLEAN' | 'UBIGINT' | 'BIGINT' | 'DOUBLE' | 'OBJECT' | 'ARRAY' | 'NULL';

/** What the scan found about one variable (or one field of an object variable). */
export interface KeyFacts {
  types: Set<JsonType>;
  nested?: KeyTable;
}

/** Keys in first-seen order, each with its facts. */
export type KeyTable = Map<string, KeyFacts>;

/** One output column for a trial variable: its name, the path into `recData.data`, and its type. */
export interface VariableColumn {
  name: string;
  path: readonly string[];
  type: ColumnType;
  sqlType: string;
  /**
   * The type the value is read as before it becomes `sqlType`. why: JSON whole numbers up to 2^64
   * all have one JSON type; read as HUGEINT and cast strictly, one past BIGINT fails the export
   * (which then runs again with wide integers) instead of coming out empty.
   */
  readType: string;
}

/** Adds keys (in the order given) to a key table, creating entries for keys not seen before. */
export function addKeys(table: KeyTable, keys: readonly string[]): void {
  for (const k of keys) if (!table.has(k)) table.set(k, { types: new Set() });
}

const NUMBER: ReadonlySet<JsonType> = new Set(['UBIGINT', 'BIGINT', 'DOUBLE']);

type Scalar = Pick<VariableColumn, 'type' | 'sqlType' | 'readType'>;
const same = (type: ColumnType, sqlType: string): Scalar => ({ type, sqlType, readType: sqlType });

/**
 * The common type of a set of JSON types: number, boolean or text; text when they disagree.
 * Whole numbers are BIGINT; with `wide` (an export that met one past BIGINT), UBIGINT when none is
 * negative, else their exact digits as text.
 */
function scalarType(types: ReadonlySet<JsonType>, wide: boolean): Scalar {
  const t = [...types].filter((x) => x !== 'NULL');
  if (t.length === 0) return same('text', 'VARCHAR');
  if (t.every((x) => x === 'OBJECT' || x === 'ARRAY')) return same('json', 'VARCHAR');
  if (t.every((x) => x === 'BOOLEAN')) return same('boolean', 'BOOLEAN');
  if (t.every((x) => x === 'UBIGINT' || x === 'BIGINT')) {
    if (!wide) return { type: 'integer', sqlType: 'BIGINT', readType: 'HUGEINT' };
    if (t.every((x) => x === 'UBIGINT')) return same('integer', 'UBIGINT');
    return { type: 'text', sqlType: 'VARCHAR', readType: 'HUGEINT' };
  }
  if (t.every((x) => NUMBER.has(x))) return same('number', 'DOUBLE');
  return same('text', 'VARCHAR');
}

/** True when a variable is an object in every row that has it: its fields become `name.field` columns. */
function flattens(facts: KeyFacts): boolean {
  const t = [...facts.types].filter((x) => x !== 'NULL');
  return t.length > 0 && t.every((x) => x === 'OBJECT') && (facts.nested?.size ?? 0) > 0;
}

/**
 * The trial variables as columns, in first-seen order: an object variable is flattened one level
 * (`stimulus.color`), anything deeper or any array is kept as JSON text. A name already taken by a
 * fixed column (or by an earlier variable, ignoring case) becomes `var.<name>`, then `var.<name>_2`...
 */
export function variableColumns(
  keys: KeyTable,
  fixed: readonly string[],
  wide = false,
): VariableColumn[] {
  const taken = new Set(fixed.map((f) => f.toLowerCase()));
  const unique = (name: string): string => {
    let out = taken.has(name.toLowerCase()) || name === '' ? `var.${name}` : name;
    for (let i = 2; taken.has(out.toLowerCase()); i++) out = `var.${name}_${i}`;
    taken.add(out.toLowerCase());
    return out;
  };
  const out: VariableColumn[] = [];
  for (const [key, facts] of keys) {
    if (flattens(facts)) {
      for (const [field, f] of facts.nested!)
        out.push({
          name: unique(`${key}.${field}`),
          path: [key, field],
          ...scalarType(f.types, wide),
        });
    } else out.push({ name: unique(key), path: [key], ...scalarType(facts.types, wide) });
  }
  return out;
}

/**
 * At most this many variable columns in one table. why: the engine holds every column of 2,048
 * rows at a time, so time and memory grow with rows × columns; trials that name their variables
 * per trial (or trials forged with a new name each) made one mostly empty column per trial.
 * Studies record tens to hundreds.
 */
export const MAX_VARIABLE_COLUMNS = 500;

/**
 * True for a name that SQL text cannot carry: one with a NUL character, which JSON allows and a
 * participant's browser can send.
 */
export const unnameable = (name: string): boolean => name.includes('\u0000');

/**
 * The variables (first-seen order) whose columns fit in `max` (an object variable takes one column
 * per field when flattened), and the names of the others, which then get no column of their own.
 * An object variable whose fields do not fit is kept as one JSON text column instead. A variable
 * or field named with a NUL character gets no column of its own either ({@link unnameable}).
 */
export function fitColumns(keys: KeyTable, max: number): { kept: KeyTable; rest: string[] } {
  const kept: KeyTable = new Map();
  const rest: string[] = [];
  let left = max;
  for (const [key, facts] of keys) {
    if (left === 0 || unnameable(key)) {
      rest.push(key);
      continue;
    }
    const named = ![...(facts.nested?.keys() ?? [])].some(unnameable);
    const wide = flattens(facts) && named ? facts.nested!.size : 1;
    const fits = wide <= left && named;
    kept.set(key, fits ? facts : { types: facts.types });
    left -= fits ? wide : 1;
  }
  return { kept, rest };
}

/** A JSON Pointer (RFC 6901) to a variable inside `recData.data`. */
export function pointer(path: readonly string[]): string {
  return path.map((p) => `/${p.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/**
 * Whether every key can be a DuckDB STRUCT field, which lets the JSON reader type the values as it
 * parses (fast). DuckDB refuses an empty field name and two names that differ only in case.
 */
export function structSafe(keys: KeyTable): boolean {
  const seen = new Set<string>();
  for (const [k, f] of keys) {
    if (k === '' || seen.has(k.toLowerCase())) return false;
    seen.add(k.toLowerCase());
    if (f.nested && !structSafe(f.nested)) return false;
  }
  return true;
}
