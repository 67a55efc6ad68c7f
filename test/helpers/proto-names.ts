/**
 * Every name an object, an array or a function inherits (`constructor`, `__proto__`, `toString`,
 * `__defineGetter__`, `hasOwnProperty`, `length`, …) that can be a path segment or a key: the names a
 * lookup on a plain object would find without anyone having configured or sent them.
 */
export const PROTO_NAMES = [
  ...new Set(
    [Object.prototype, Array.prototype, Function.prototype].flatMap((p) =>
      Object.getOwnPropertyNames(p),
    ),
  ),
].filter((n) => /^[A-Za-z_][\w-]*$/.test(n));
