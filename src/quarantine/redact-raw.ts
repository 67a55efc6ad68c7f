/** What a secret is replaced with in kept requests. */
export const REDACTED = '[redacted]';

// why: a string may be cut off anywhere, even after a lone backslash; it then runs to the end of the text.
const STRING = /"(?:[^"\\]|\\[\s\S])*(?:"|\\?$)/y;
const SPACE = /\s*/y;
const SCALAR = /[^,}\]\s]*/y;
const REDACTED_JSON = JSON.stringify(REDACTED);
const REDACTED_FORM = encodeURIComponent(REDACTED);

function at(re: RegExp, text: string, index: number): string {
  re.lastIndex = index;
  return re.exec(text)?.[0] ?? '';
}

function keyName(literal: string): string | undefined {
  try {
    return JSON.parse(
      literal.endsWith('"') && literal.length > 1 ? literal : `${literal}"`,
    ) as string;
  } catch {
    return undefined;
  }
}

/** End of the object or array starting at `start` (skipping strings), or the end of the text. */
function containerEnd(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      i += at(STRING, text, i).length - 1;
      continue;
    }
    if (c === '{' || c === '[') depth++;
    else if ((c === '}' || c === ']') && --depth === 0) return i + 1;
  }
  return text.length;
}

/** Replaces the value of every JSON member named in `fields`, at any depth, also in broken JSON. */
function redactJson(text: string, fields: ReadonlySet<string>): string {
  let out = '';
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] !== '"') continue;
    const literal = at(STRING, text, i);
    const afterKey = i + literal.length;
    const colon = afterKey + at(SPACE, text, afterKey).length;
    i = afterKey - 1;
    if (text[colon] !== ':') continue;
    const name = keyName(literal);
    if (name === undefined || !fields.has(name)) continue;
    const start = colon + 1 + at(SPACE, text, colon + 1).length;
    const first = text[start];
    const end =
      first === '"'
        ? start + at(STRING, text, start).length
        : first === '{' || first === '['
          ? containerEnd(text, start)
          : start + at(SCALAR, text, start).length;
    out += `${text.slice(from, start)}${REDACTED_JSON}`;
    from = end;
    i = end - 1;
  }
  return out + text.slice(from);
}

/** Replaces the value of every form field whose name (or last bracket segment) is in `fields`. */
function redactForm(text: string, fields: ReadonlySet<string>): string {
  return text
    .split('&')
    .map((part) => {
      const eq = part.indexOf('=');
      if (eq === -1) return part;
      let key: string;
      try {
        key = decodeURIComponent(part.slice(0, eq).replace(/\+/g, ' '));
      } catch {
        key = part.slice(0, eq);
      }
      const last = /\[([^[\]]*)\]$/.exec(key)?.[1] ?? key;
      return fields.has(last) ? `${part.slice(0, eq)}=${REDACTED_FORM}` : part;
    })
    .join('&');
}

/**
 * The raw body with the values of secret fields (Sensor Logger's `secretCode`) replaced by
 * `"[redacted]"`, wherever they appear as a JSON member or a form field, read as text so that it also
 * works on a body that is not valid JSON. Without secret fields the bytes come back unchanged.
 */
export function redactRaw(
  body: Buffer,
  fields: readonly string[],
  contentType: string | undefined,
): Buffer {
  if (fields.length === 0 || body.length === 0) return body;
  const names = new Set(fields);
  const text = body.toString('utf8');
  const form = /^\s*application\/x-www-form-urlencoded/i.test(contentType ?? '');
  return Buffer.from(form ? redactForm(text, names) : redactJson(text, names), 'utf8');
}
