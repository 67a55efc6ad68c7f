/**
 * Field names (lower-case) whose values never reach a log line, at any depth, whatever the platform.
 * Each platform's own (its secret headers and payload fields) are added by the logger's `secretKeys`.
 */
export const SECRET_KEYS: ReadonlySet<string> = new Set([
  'secrets',
  'authorization',
  'proxy-authorization',
  'cookie',
  'token',
  'password',
]);

const CENSOR = '[redacted]';
const MAX_DEPTH = 8;

function plain(value: object): boolean {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * Returns `value` with every field named in `keys` (lower-case; default {@link SECRET_KEYS}) replaced by `[redacted]`, copying
 * only the objects on the way to such a field (a line with no secret costs one key look-up per
 * field). Only plain objects and arrays are walked; errors are censored after pino serialises them.
 */
export function censor(
  value: unknown,
  keys: ReadonlySet<string> = SECRET_KEYS,
  depth = 0,
): unknown {
  if (value === null || typeof value !== 'object' || depth > MAX_DEPTH) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const c = censor(value[i], keys, depth + 1);
      if (c !== value[i]) (out ??= value.slice())[i] = c;
    }
    return out ?? value;
  }
  if (!plain(value)) return value;
  const obj = value as Record<string, unknown>;
  let out: Record<string, unknown> | undefined;
  for (const k in obj) {
    const v = obj[k];
    const c = keys.has(k.toLowerCase()) ? CENSOR : censor(v, keys, depth + 1);
    if (c !== v) (out ??= { ...obj })[k] = c;
  }
  return out ?? obj;
}
