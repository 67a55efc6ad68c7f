import { StudyhookError } from '../errors.js';
import { setOwn, type ParseLimits } from './parse-limits.js';

type Container = Record<string, unknown> | unknown[];

/** `a[b][]` → ['a', 'b', '']; a key that is not `name[...]...` throughout stays one literal key. */
function segmentsOf(key: string): string[] {
  const first = key.indexOf('[');
  if (first <= 0) return [key];
  const out = [key.slice(0, first)];
  let i = first;
  while (i < key.length) {
    if (key.charCodeAt(i) !== 0x5b) return [key];
    // why: a group may itself hold brackets (a variable named `a[1]`); take the balanced one, as qs does.
    let level = 1;
    let j = i + 1;
    for (; j < key.length && level > 0; j++) {
      const c = key.charCodeAt(j);
      if (c === 0x5b) level++;
      else if (c === 0x5d) level--;
    }
    if (level > 0) return [key];
    out.push(key.slice(i + 1, j - 1));
    i = j;
  }
  return out;
}

function decode(text: string): string {
  if (!text.includes('%') && !text.includes('+')) return text;
  const spaced = text.replace(/\+/g, ' ');
  // why: a malformed escape (`%ZZ`, a lone `%FF`) is kept as sent rather than turned into U+FFFD.
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

const INDEX = /^(0|[1-9]\d{0,8})$/;

function refuse(message: string): never {
  throw new StudyhookError(
    'SH_BAD_BODY',
    `Form body cannot be read without reshaping it: ${message}`,
  );
}

/** A new container for the segment that will be written into it: an array for `[]` or `[0]`, else an object. */
function containerFor(segment: string): Container {
  return segment === '' || segment === '0' ? [] : {};
}

function put(target: Container, segment: string, value: unknown, key: string): void {
  if (Array.isArray(target)) {
    const index = segment === '' ? target.length : INDEX.test(segment) ? Number(segment) : -1;
    if (index === target.length) target.push(value);
    else if (index >= 0 && index < target.length) refuse(`'${key}' is given twice`);
    else refuse(`'${key}' mixes array entries with other keys or skips an index`);
    return;
  }
  if (Object.hasOwn(target, segment)) {
    const old = target[segment];
    // why: repeated plain keys (`a=1&a=2`, what an HTML multi-select sends) keep every value, as qs did.
    if (typeof old === 'string' && typeof value === 'string') setOwn(target, segment, [old, value]);
    else if (
      Array.isArray(old) &&
      old.every((v) => typeof v === 'string') &&
      typeof value === 'string'
    )
      old.push(value);
    else refuse(`'${key}' is given twice`);
    return;
  }
  setOwn(target, segment, value);
}

function child(target: Container, segment: string, next: string, key: string): Container {
  if (Array.isArray(target)) {
    const index = segment === '' ? target.length : INDEX.test(segment) ? Number(segment) : -1;
    if (index >= 0 && index < target.length) {
      const existing = target[index];
      if (existing !== null && typeof existing === 'object') return existing as Container;
      refuse(`'${key}' is both a value and a container`);
    }
  } else if (Object.hasOwn(target, segment)) {
    const existing = target[segment];
    if (existing !== null && typeof existing === 'object') return existing as Container;
    refuse(`'${key}' is both a value and a container`);
  }
  const made = containerFor(next);
  put(target, segment, made, key);
  return made;
}

/**
 * Reads an `application/x-www-form-urlencoded` body with jQuery's bracket keys
 * (`recData[data][rt]=512`, `list[]=a`, `rows[0][x]=1`) into nested objects and arrays, in time
 * linear in its size. What it cannot represent exactly (a key given twice inside an array, an index
 * that skips, a value that is also a container) is refused rather than reshaped, and so are bodies
 * over `limits`. Keys named like `__proto__` or `constructor` are kept as data.
 *
 * why not qs: qs merges arrays in quadratic time (a 10,000-element array took 2 s, 50,000 took 55 s)
 * and drops `__proto__` keys, and with its limits on it turns large arrays into objects.
 */
export function parseForm(text: string, limits: ParseLimits): Record<string, unknown> {
  const root: Record<string, unknown> = {};
  // why: a form repeats a few keys (`recData[data][rt][]`) many times; decoding and splitting each once halved the parse.
  const keys = new Map<string, { key: string; segments: string[] }>();
  let count = 0;
  for (const part of text.split('&')) {
    if (part === '') continue;
    if (++count > limits.maxValues)
      throw new StudyhookError(
        'SH_BODY_TOO_LARGE',
        `Form body has more than ${limits.maxValues} fields`,
      );
    const eq = part.indexOf('=');
    const rawKey = eq === -1 ? part : part.slice(0, eq);
    let parsed = keys.get(rawKey);
    if (!parsed) {
      const decoded = decode(rawKey);
      parsed = { key: decoded, segments: segmentsOf(decoded) };
      if (keys.size < 4096) keys.set(rawKey, parsed);
    }
    const { key, segments } = parsed;
    const value = eq === -1 ? '' : decode(part.slice(eq + 1));
    if (segments.length > limits.maxDepth)
      throw new StudyhookError(
        'SH_BODY_TOO_LARGE',
        `Form key nests deeper than ${limits.maxDepth} levels`,
      );
    let target: Container = root;
    for (let i = 0; i < segments.length - 1; i++)
      target = child(target, segments[i]!, segments[i + 1]!, key);
    put(target, segments[segments.length - 1]!, value, key);
  }
  return root;
}
