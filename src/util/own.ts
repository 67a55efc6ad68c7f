/**
 * `record[key]` when `key` is one of the record's own properties, else undefined.
 *
 * why: a key that comes from a request or a config file (a namespace, an event name, a `where`
 * path) may be `constructor`, `__proto__`, `toString`…: a plain `record[key]` then finds a member of
 * Object.prototype and treats it as configured (issue #22, item 1).
 */
export function own<T>(
  record: Readonly<Record<string, T>> | undefined | null,
  key: string,
): T | undefined {
  return record !== undefined && record !== null && Object.hasOwn(record, key)
    ? record[key]
    : undefined;
}

/**
 * `value[key]` for any value: an own property of an object or array, else undefined (primitives,
 * null and inherited members alike). For dotted paths into data (`where` conditions, templates).
 */
export function ownField(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' && Object.hasOwn(value, key)
    ? (value as Record<string, unknown>)[key]
    : undefined;
}

/**
 * A copy of `record` with no prototype, so that every lookup on it, ours or a caller's, only sees
 * its own keys. A `__proto__` key stays an ordinary key.
 */
export function ownRecord<T>(record: Readonly<Record<string, T>>): Record<string, T> {
  const out = Object.create(null) as Record<string, T>;
  for (const k of Object.keys(record)) out[k] = record[k]!;
  return out;
}
