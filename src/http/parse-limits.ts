import { StudyhookError } from '../errors.js';

/**
 * Bounds on the shape of a parsed body (`server.parseLimits`), checked before anything walks it: the
 * cost of a body is in its number of values more than its bytes, and JSON.stringify, BullMQ and
 * sinks recurse, so depth must stay far from the stack's limit.
 */
export interface ParseLimits {
  /** Deepest nesting of objects and arrays (a form key's bracket groups count as levels). */
  maxDepth: number;
  /** Most values: for JSON, objects, arrays and members/elements; for a form, fields. */
  maxValues: number;
}

/**
 * Counts nesting and values of JSON text in one pass over the bytes, without parsing it, and throws
 * `SH_BODY_TOO_LARGE` past `limits`. Malformed JSON is left for JSON.parse to report.
 */
export function checkJsonShape(bytes: Buffer, limits: ParseLimits): void {
  let depth = 0;
  let values = 0;
  const n = bytes.length;
  for (let i = 0; i < n; i++) {
    const c = bytes[i]!;
    if (c === 0x22) {
      // why: skip a string in one jump; a quote preceded by an odd run of backslashes is escaped.
      for (;;) {
        const q = bytes.indexOf(0x22, i + 1);
        if (q === -1) return;
        let slashes = 0;
        while (bytes[q - 1 - slashes] === 0x5c) slashes++;
        i = q;
        if (slashes % 2 === 0) break;
      }
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth > limits.maxDepth)
        throw new StudyhookError(
          'SH_BODY_TOO_LARGE',
          `JSON body nests deeper than ${limits.maxDepth} levels`,
        );
      if (++values > limits.maxValues)
        throw new StudyhookError(
          'SH_BODY_TOO_LARGE',
          `JSON body holds more than ${limits.maxValues} values`,
        );
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (c === 0x2c) {
      if (++values > limits.maxValues)
        throw new StudyhookError(
          'SH_BODY_TOO_LARGE',
          `JSON body holds more than ${limits.maxValues} values`,
        );
    }
  }
}

/** Sets an own property, also one named `__proto__` (an assignment would set the prototype instead). */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    });
  else target[key] = value;
}
