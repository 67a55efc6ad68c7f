import { hash } from 'node:crypto';

/** Where the Labvanced player runs (docs 2.2 list it with a trailing slash, which a real Origin never has). */
export const LABVANCED_ORIGIN = 'https://www.labvanced.com';

const NUMBER = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?$/;

/**
 * The number rule: every string leaf that is the canonical JSON text of a finite number
 * (`String(Number(s)) === s`, so "512", "-3", "0.25", but not "007", "1.50", "1e3" or a 20-digit id)
 * becomes that number, and "true"/"false" become booleans. Applied to JSON and urlencoded bodies
 * alike, so one trial gives the same data whichever encoding the player used.
 */
export function coerce(value: unknown): unknown {
  if (typeof value === 'string') {
    if (value === 'true') return true;
    if (value === 'false') return false;
    if (NUMBER.test(value)) {
      const n = Number(value);
      if (Number.isFinite(n) && String(n) === value) return n;
    }
    return value;
  }
  if (Array.isArray(value)) return value.map(coerce);
  if (value === null || typeof value !== 'object') return value;
  return coerceFields(value);
}

/** {@link coerce} of an object's fields. */
export function coerceFields(value: object): Record<string, unknown> {
  // why: a loop, not Object.fromEntries(Object.entries(...).map(...)): this runs on every trial, and the three arrays per object cost more than the rest.
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(value)) {
    const v = coerce((value as Record<string, unknown>)[k]);
    // why: JSON.parse and qs keep a "__proto__" key as data; an assignment would set the prototype instead.
    if (k === '__proto__')
      Object.defineProperty(out, k, {
        value: v,
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else out[k] = v;
  }
  return out;
}

function stable(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stable).join(',')}]`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  let out = '{';
  for (const k of Object.keys(value).sort())
    out += `${out.length > 1 ? ',' : ''}${JSON.stringify(k)}:${stable((value as Record<string, unknown>)[k])}`;
  return `${out}}`;
}

/** A short hash of a value that ignores key order (so JSON and urlencoded give the same). */
export function hashOf(value: unknown): string {
  return hash('sha256', stable(value)).slice(0, 32);
}

const PG_TIME = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2}:\d{2}(?:\.\d+)?)([+-]\d{2})(?::?(\d{2}))?$/;

/** RFC 3339 from the player's `YYYY-MM-DD HH:MM:SS±HH[:MM]` or a UNIX time (s or ms); undefined if neither. */
export function toTime(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value) && value > 0) {
    // why: a number past a Date's range (8.64e15 ms) is no time; toISOString() threw on it inside
    // normalise, and the call (JSON or the player's urlencoded form) was answered 500 and kept nowhere.
    const d = new Date(value < 1e11 ? value * 1000 : value);
    return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
  }
  if (typeof value !== 'string') return undefined;
  const m = PG_TIME.exec(value.trim());
  if (!m) return undefined;
  const d = new Date(`${m[1]}T${m[2]}${m[3]}:${m[4] ?? '00'}`);
  return Number.isNaN(d.getTime()) ? undefined : d.toISOString();
}

/** Text of an id-like value (numbers and strings alike), or undefined when empty. */
export function text(value: unknown): string | undefined {
  return (typeof value === 'string' && value !== '') || typeof value === 'number'
    ? String(value)
    : undefined;
}

// eslint-disable-next-line no-control-regex -- control characters are exactly what must go
const UNSAFE = /[\u0000-\u001f\u007f<>:"|?*\u202a-\u202e\u2066-\u2069]/gu;

/**
 * A safe basename for the participant-chosen `newFileName`: the last path segment, without control,
 * bidi or reserved characters, no leading dots, at most 200 bytes of UTF-8 (extension kept).
 * Blobs are stored by uuid anyway; this is only the name recorded and replied.
 */
export function safeFileName(raw: string | undefined, fallback: string): string {
  const last = (raw ?? '').normalize('NFC').split(/[/\\]/).pop() ?? '';
  let name = last
    .replace(UNSAFE, '_')
    .replace(/^[.\s]+/, '')
    .trim();
  if (Buffer.byteLength(name) > 200) {
    const dot = name.lastIndexOf('.');
    const ext = dot > 0 && name.length - dot <= 16 ? name.slice(dot) : '';
    let stem = name.slice(0, name.length - ext.length);
    while (Buffer.byteLength(stem + ext) > 200) stem = [...stem].slice(0, -1).join('');
    name = stem + ext;
  }
  return name || fallback;
}
