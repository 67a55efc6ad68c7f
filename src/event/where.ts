import { ownField } from '../util/own.js';

/** One parsed `where` condition of a sink filter. */
export type Condition =
  | { path: string[]; op: '==' | '!='; value: unknown }
  | { path: string[]; op: 'in' | 'not in'; values: unknown[] }
  | { path: string[]; op: 'exists' | 'not exists' };

const PATH = '([A-Za-z_][\\w-]*(?:\\.[\\w-]+)*)';
const COMPARE = new RegExp(`^${PATH}\\s*(==|!=)\\s*(.+)$`);
const MEMBER = new RegExp(`^${PATH}\\s+(in|not in)\\s+(\\[.*\\])$`);
const EXISTS = new RegExp(`^${PATH}\\s+(exists|not exists)$`);

function json(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`'${text}' is not a JSON value (quote strings: "APPROVED")`);
  }
}

/** Parses `path == value`, `path != value`, `path in [..]`, `path not in [..]`, `path exists`, `path not exists`; throws on anything else. */
export function parseCondition(text: string): Condition {
  const s = text.trim();
  let m = EXISTS.exec(s);
  if (m) return { path: m[1]!.split('.'), op: m[2] as 'exists' };
  m = MEMBER.exec(s);
  if (m) {
    const values = json(m[3]!);
    if (!Array.isArray(values)) throw new Error(`'${m[3]}' is not a JSON array`);
    return { path: m[1]!.split('.'), op: m[2] as 'in', values };
  }
  m = COMPARE.exec(s);
  if (m) return { path: m[1]!.split('.'), op: m[2] as '==', value: json(m[3]!.trim()) };
  throw new Error(
    `cannot read condition '${text}' (use: path == "value", path != "value", path in ["a", "b"], path exists, path not exists)`,
  );
}

// why: own properties only, so `data.constructor exists` is about the event's data, never Object.prototype's.
function lookup(target: unknown, path: readonly string[]): unknown {
  let v = target;
  for (const key of path) v = ownField(v, key);
  return v;
}

// why: conditions compare JSON literals; primitives compare by value, objects and arrays structurally.
function same(a: unknown, b: unknown): boolean {
  return (
    a === b || (typeof a === 'object' && a !== null && JSON.stringify(a) === JSON.stringify(b))
  );
}

/** True when the event satisfies the condition; a missing field equals nothing and is `not in` every list. */
export function holds(c: Condition, event: unknown): boolean {
  const v = lookup(event, c.path);
  switch (c.op) {
    case 'exists':
      return v !== undefined && v !== null;
    case 'not exists':
      return v === undefined || v === null;
    case '==':
      return v !== undefined && same(v, c.value);
    case '!=':
      return !same(v, c.value);
    case 'in':
      return c.values.some((x) => same(v, x));
    case 'not in':
      return !c.values.some((x) => same(v, x));
  }
}
