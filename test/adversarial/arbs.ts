import fc from 'fast-check';
import { VALID_NAMESPACES } from './config.js';
import { SAMPLE_TARGETS } from './requests.js';

/** Names that a plain-object lookup finds on every object: Object.prototype's and Function.prototype's own names. */
export const PROTO_KEYS: readonly string[] = [
  ...new Set([
    '__proto__',
    'constructor',
    'prototype',
    'toString',
    'valueOf',
    'hasOwnProperty',
    ...Object.getOwnPropertyNames(Object.prototype),
    ...Object.getOwnPropertyNames(Function.prototype),
  ]),
].filter((k) => /^[A-Za-z0-9_-]+$/.test(k));

/** A request the sample builders can make: platform, route ('' = the base URL), kind of call (Prolific's event type) and a namespace that takes it. */
export interface Target {
  platform: string;
  route: string;
  event?: string;
  namespace: string;
}

export const targetArb: fc.Arbitrary<Target> = fc
  .constantFrom(...SAMPLE_TARGETS)
  .chain((t) =>
    fc.constantFrom(...VALID_NAMESPACES[t.platform]!).map((namespace) => ({ ...t, namespace })),
  );

/** Targets whose body is JSON (every one but the Labvanced file upload). */
export const jsonTargetArb = targetArb.filter((t) => t.route !== 'file_upload');

/** Labvanced's JSON-or-form data routes and MyDataHelps' callback, which also take urlencoded bodies. */
export const formTargetArb = jsonTargetArb.filter(
  (t) => t.platform === 'labvanced' || t.platform === 'mydatahelps',
);

/** Scale of sizes (bodies, widths, depths): 1 in CI, larger with `npm run fuzz -- --scale N`. */
export const SCALE = Math.max(1, Number(process.env['FUZZ_SCALE'] ?? 1));

/** Percent-encodes every byte of `s` (`__proto__` → `%5F%5Fproto%5F%5F`...). */
export function encodeAll(s: string): string {
  return [...Buffer.from(s)]
    .map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`)
    .join('');
}
