/**
 * `json.dumps(json.loads(text))` as CPython prints it with default arguments: separators `", "` and
 * `": "`, `ensure_ascii=True`, key order kept. Prolific's verification example signs this form
 * (docs: api-reference/webhooks/verifying), so the verifier re-creates it byte for byte.
 *
 * why: JSON.parse cannot be used for the tree: it reorders integer-like keys, turns `1.0` into `1`
 * and rounds big integers, all of which Python keeps. Only string literals go through JSON.parse.
 */
export function pythonJsonDumps(text: string): string {
  const p = new Parser(text);
  p.ws();
  const value = p.value();
  p.ws();
  if (p.i !== text.length) throw new SyntaxError(`Extra data at ${p.i}`);
  return dump(value);
}

type Value = { num: string } | string | boolean | null | Value[] | Map<string, Value>;

const NUMBER = /-?(?:0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y;
// eslint-disable-next-line no-control-regex -- raw control characters are invalid inside JSON strings, as in Python's strict json.loads
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

class Parser {
  i = 0;
  constructor(private readonly s: string) {}

  ws(): void {
    while (' \t\n\r'.includes(this.s[this.i] ?? 'x')) this.i += 1;
  }

  private expect(ch: string): void {
    if (this.s[this.i] !== ch) throw new SyntaxError(`Expected '${ch}' at ${this.i}`);
    this.i += 1;
  }

  private match(re: RegExp): string {
    re.lastIndex = this.i;
    const m = re.exec(this.s);
    if (!m) throw new SyntaxError(`Unexpected token at ${this.i}`);
    this.i += m[0].length;
    return m[0];
  }

  value(): Value {
    const c = this.s[this.i];
    if (c === '{') return this.object();
    if (c === '[') return this.array();
    if (c === '"') return JSON.parse(this.match(STRING)) as string;
    for (const [word, v] of [
      ['true', true],
      ['false', false],
      ['null', null],
    ] as const) {
      if (this.s.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
    }
    return { num: this.match(NUMBER) };
  }

  private object(): Value {
    this.expect('{');
    // why: a Python dict keeps a repeated key at its first position with its last value, as Map#set does.
    const out = new Map<string, Value>();
    this.ws();
    if (this.s[this.i] === '}') {
      this.i += 1;
      return out;
    }
    for (;;) {
      this.ws();
      const key = JSON.parse(this.match(STRING)) as string;
      this.ws();
      this.expect(':');
      this.ws();
      out.set(key, this.value());
      this.ws();
      if (this.s[this.i] === ',') {
        this.i += 1;
        continue;
      }
      this.expect('}');
      return out;
    }
  }

  private array(): Value {
    this.expect('[');
    const out: Value[] = [];
    this.ws();
    if (this.s[this.i] === ']') {
      this.i += 1;
      return out;
    }
    for (;;) {
      this.ws();
      out.push(this.value());
      this.ws();
      if (this.s[this.i] === ',') {
        this.i += 1;
        continue;
      }
      this.expect(']');
      return out;
    }
  }
}

const SHORT: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
};

/** Python's `ensure_ascii` string encoder: everything outside space..~ becomes `\uxxxx` (UTF-16 units). */
export function pythonString(s: string): string {
  return `"${s.replace(/[\\"]|[^ -~]/g, (ch) => SHORT[ch] ?? `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`)}"`;
}

/** Python's `repr(float)`: shortest round-trip digits, fixed notation for exponents -4..15, else `1e+16`. */
export function pythonFloat(x: number): string {
  if (x === Infinity) return 'Infinity';
  if (x === -Infinity) return '-Infinity';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa = '', expText = '0'] = x.toExponential().split('e');
  const exp = Number(expText);
  const sign = x < 0 ? '-' : '';
  const digits = mantissa.replace('-', '').replace('.', '');
  if (exp < -4 || exp >= 16) {
    const m = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${m}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  return `${sign}${digits.slice(0, exp + 1).padEnd(exp + 1, '0')}.${digits.slice(exp + 1) || '0'}`;
}

function dumpNumber(literal: string): string {
  // An integer literal stays an exact Python int (only `-0` changes).
  if (/^-?\d+$/.test(literal)) return literal === '-0' ? '0' : literal;
  return pythonFloat(Number(literal));
}

function dump(v: Value): string {
  if (v === null) return 'null';
  if (v === true) return 'true';
  if (v === false) return 'false';
  if (typeof v === 'string') return pythonString(v);
  if (Array.isArray(v)) return `[${v.map(dump).join(', ')}]`;
  if (v instanceof Map)
    return `{${[...v].map(([k, x]) => `${pythonString(k)}: ${dump(x)}`).join(', ')}}`;
  return dumpNumber(v.num);
}
