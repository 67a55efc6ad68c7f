import { col } from './create-table.js';
import { ident, lit } from './sql.js';
import type { ColumnSpec } from './types.js';
import {
  addKeys,
  MAX_VARIABLE_COLUMNS,
  pointer,
  type JsonType,
  type KeyTable,
  type VariableColumn,
} from './variables.js';

function jsonType(v: unknown): JsonType {
  if (v === null) return 'NULL';
  if (Array.isArray(v)) return 'ARRAY';
  switch (typeof v) {
    case 'string':
      return 'VARCHAR';
    case 'boolean':
      return 'BOOLEAN';
    case 'number':
      // why in range only: like the engine's json_type, a whole number no 64-bit integer holds is a
      // DOUBLE (JSON.stringify writes 1e20 as 21 digits, 1e21 as `1e+21`); typed as an integer
      // column, its cell came out empty.
      if (!Number.isInteger(v) || v < -(2 ** 63) || v >= 2 ** 64) return 'DOUBLE';
      return v < 0 ? 'BIGINT' : 'UBIGINT';
    case 'object':
      return 'OBJECT';
    default:
      return 'NULL';
  }
}

/**
 * The keys and JSON types of objects (in row order), one level of nesting deep, as the engine's
 * scan reports them for trials. For the small tables, whose objects are read into Node.
 */
export function keyTableOf(objects: readonly unknown[]): KeyTable {
  const table: KeyTable = new Map();
  for (const o of objects) {
    if (o === null || typeof o !== 'object' || Array.isArray(o)) continue;
    addKeys(table, Object.keys(o));
    for (const [k, v] of Object.entries(o)) {
      const facts = table.get(k)!;
      facts.types.add(jsonType(v));
      if (jsonType(v) === 'OBJECT') {
        facts.nested ??= new Map();
        addKeys(facts.nested, Object.keys(v as object));
        for (const [nk, nv] of Object.entries(v as object))
          facts.nested.get(nk)!.types.add(jsonType(nv));
      }
    }
  }
  return table;
}

/** Every column's value as text, in column order, from one lookup in a JSON text column: a list. */
export function jsonValues(json: string, columns: readonly VariableColumn[]): string {
  return `json_extract_string(${json}, [${columns.map((c) => lit(pointer(c.path))).join(', ')}])`;
}

/** A value read as `c.readType` made `c.sqlType`; a strict cast, so that nothing is lost unseen. */
const narrowed = (value: string, c: VariableColumn): string =>
  c.readType === c.sqlType ? value : `CAST(${value} AS ${c.sqlType})`;

/** The value of column `i` from {@link jsonValues}' list, typed as the column says. */
export function jsonListExpr(list: string, i: number, c: VariableColumn): string {
  const text = `${list}[${i + 1}]`;
  return c.sqlType === 'VARCHAR' ? text : narrowed(`TRY_CAST(${text} AS ${c.readType})`, c);
}

/** The value of a variable column read from a typed STRUCT (the fast path). */
export function structExpr(struct: string, c: VariableColumn): string {
  return narrowed(
    c.path.reduce((e, p) => `struct_extract(${e}, ${lit(p)})`, struct),
    c,
  );
}

/** The STRUCT type that makes the JSON reader type each variable as it parses. */
export function structType(keys: KeyTable, columns: readonly VariableColumn[]): string {
  const typeOf = new Map(columns.map((c) => [c.path.join('\u0000'), c.readType]));
  const fields = [...keys].map(([k, f]) => {
    const own = typeOf.get(k);
    if (own !== undefined) return `${ident(k)} ${own}`;
    return `${ident(k)} STRUCT(${[...(f.nested ?? [])].map(([nk]) => `${ident(nk)} ${typeOf.get(`${k}\u0000${nk}`) ?? 'VARCHAR'}`).join(', ')})`;
  });
  return `STRUCT(${fields.join(', ')})`;
}

/**
 * The column of a whole object (`json`, as JSON text) for when some of its fields got no column of
 * their own (`rest`, from {@link fitColumns}): nothing is lost. Personal: free text of any field
 * (an e-mail address) may be in it, so `--pseudonymize` leaves it out.
 */
export function wholeObjectColumn(
  name: string,
  json: string,
  what: string,
  source: string,
  rest: readonly string[],
): ColumnSpec {
  // why JSON-quoted when it holds a control character: a NUL byte in the codebook broke its text.
  const control = (n: string) => [...n].some((c) => c.charCodeAt(0) < 0x20);
  const shown = rest.slice(0, 5).map((n) => (control(n) ? JSON.stringify(n) : n));
  const named = `${shown.join(', ')}${rest.length > 5 ? ', ...' : ''}`;
  return col(
    name,
    'json',
    `CAST(${json} AS VARCHAR)`,
    `${what} (JSON): more fields than ${MAX_VARIABLE_COLUMNS} columns hold, or named with a NUL character, so ${rest.length} of them (${named}) have no column of their own`,
    source,
    { personal: true },
  );
}
