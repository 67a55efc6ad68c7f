import assert from 'node:assert/strict';
import fc from 'fast-check';
import request from 'supertest';
import { parseForm } from '../src/http/parse-form.js';
import { checkJsonShape } from '../src/http/parse-limits.js';
import { redactRaw } from '../src/quarantine/redact-raw.js';
import { recordingSink, startGateway, type TestGateway } from './helpers/gateway.js';
import { queuedEvents, readQuarantine } from './helpers/quarantine.js';

const LIMITS = { maxDepth: 64, maxValues: 250_000 };
const SEED = 20261204;

/** jQuery 3's `$.param` (buildParams), as the Labvanced player encodes a body: `[]` for primitives in arrays, indices for containers. */
function jqueryParam(value: Record<string, unknown>): string {
  const out: string[] = [];
  const add = (key: string, v: unknown): void => {
    out.push(
      `${encodeURIComponent(key)}=${encodeURIComponent(v === null || v === undefined ? '' : String(v))}`,
    );
  };
  const build = (prefix: string, v: unknown): void => {
    if (Array.isArray(v))
      v.forEach((x, i) => {
        if (/\[\]$/.test(prefix)) add(prefix, x);
        else build(`${prefix}[${typeof x === 'object' && x !== null ? i : ''}]`, x);
      });
    else if (v !== null && typeof v === 'object')
      for (const name in v) build(`${prefix}[${name}]`, (v as Record<string, unknown>)[name]);
    else add(prefix, v);
  };
  for (const name in value) build(name, value[name]);
  return out.join('&').replace(/%20/g, '+');
}

/** Values a form can carry without ambiguity: strings, and non-empty objects and arrays (jQuery drops empty ones); object keys are not array-like. */
const key = fc.oneof(
  fc.string({ minLength: 1, maxLength: 6 }).filter((k) => !/^\d+$/.test(k) && !/[[\]]/.test(k)),
  fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty', 'a b', 'ä&=+%'),
);
const formValue = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, fc.string({ maxLength: 8 }), tie('object'), tie('array')),
  object: fc
    .uniqueArray(fc.tuple(key, tie('value')), { minLength: 1, maxLength: 4, selector: ([k]) => k })
    .map((entries) => {
      const o: Record<string, unknown> = {};
      for (const [k, v] of entries)
        Object.defineProperty(o, k, {
          value: v,
          enumerable: true,
          writable: true,
          configurable: true,
        });
      return o;
    }),
  array: fc.array(tie('value'), { minLength: 1, maxLength: 4 }),
})).object as fc.Arbitrary<Record<string, unknown>>;

/** Nesting and values of a JSON value as checkJsonShape counts them: each container, plus one per separator. */
function shape(v: unknown, level = 0): { depth: number; values: number } {
  if (v === null || typeof v !== 'object') return { depth: level, values: 0 };
  const members = Array.isArray(v) ? v : Object.values(v);
  let depth = level + 1;
  let values = 1 + Math.max(0, members.length - 1);
  for (const m of members) {
    const s = shape(m, level + 1);
    depth = Math.max(depth, s.depth);
    values += s.values;
  }
  return { depth, values };
}

describe('parsing bodies within limits', () => {
  it('reads back any value jQuery encodes as a form, keys named like prototype members included', () => {
    fc.assert(
      fc.property(formValue, (value) => {
        const parsed = parseForm(jqueryParam(value), LIMITS);
        assert.deepEqual(parsed, value);
        for (const o of [parsed, ...Object.values(parsed)])
          if (o && typeof o === 'object')
            assert.ok([Object.prototype, Array.prototype].includes(Object.getPrototypeOf(o)));
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('refuses rather than reshapes a form it cannot represent exactly, and one over the limits', () => {
    for (const body of [
      'a[0]=1&a[0]=2',
      'a[]=1&a[x]=2',
      'a=1&a[b]=2',
      'a[b]=1&a=2',
      'a[0]=1&a[2]=3',
    ]) {
      assert.throws(() => parseForm(body, LIMITS), { code: 'SH_BAD_BODY' }, body);
    }
    assert.deepEqual(
      parseForm('a=1&a=2&b[]=x', LIMITS),
      { a: ['1', '2'], b: ['x'] },
      'a repeated plain key keeps every value',
    );
    assert.throws(() => parseForm('a=1&b=2&c=3', { maxDepth: 64, maxValues: 2 }), {
      code: 'SH_BODY_TOO_LARGE',
    });
    assert.throws(() => parseForm(`a${'[x]'.repeat(64)}=1`, LIMITS), { code: 'SH_BODY_TOO_LARGE' });
    assert.deepEqual(Object.keys(parseForm(`a${'[x]'.repeat(63)}=1`, LIMITS)), ['a']);
  });

  it('counts the depth and values of any JSON text exactly, strings with brackets, quotes and backslashes included', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = Buffer.from(JSON.stringify(value));
        const { depth, values } = shape(value);
        checkJsonShape(text, { maxDepth: Math.max(depth, 1), maxValues: Math.max(values, 1) });
        if (depth > 1)
          assert.throws(() => checkJsonShape(text, { maxDepth: depth - 1, maxValues: 1e9 }), {
            code: 'SH_BODY_TOO_LARGE',
          });
        if (values > 1)
          assert.throws(() => checkJsonShape(text, { maxDepth: 1e9, maxValues: values - 1 }), {
            code: 'SH_BODY_TOO_LARGE',
          });
      }),
      { seed: SEED, numRuns: 1000 },
    );
  });

  it('redacts a secret field wherever it sits in JSON, whole or cut off, and leaves the rest as it was', () => {
    const secret = fc.string({ minLength: 1, maxLength: 20 }).map((s) => `S3cr3t-${s}`);
    fc.assert(
      fc.property(fc.jsonValue(), secret, fc.nat(), (other, code, cut) => {
        const body = {
          studyId: 's',
          x: other,
          nested: { secretCode: code, keep: other },
          secretCode: code,
        };
        const text = JSON.stringify(body);
        const redacted = redactRaw(
          Buffer.from(text),
          ['secretCode'],
          'application/json',
        ).toString();
        assert.deepEqual(JSON.parse(redacted), {
          ...body,
          nested: { secretCode: '[redacted]', keep: other },
          secretCode: '[redacted]',
        });
        const truncated = text.slice(0, text.length - 2 - (cut % 4));
        assert.ok(
          !redactRaw(Buffer.from(truncated), ['secretCode'], undefined)
            .toString()
            .includes(JSON.stringify(code).slice(0, -1)),
        );
      }),
      { seed: SEED, numRuns: 300 },
    );
  });
});

describe('depth and width bombs through the real gateway', () => {
  let t: TestGateway;
  beforeEach(async () => {
    t = await startGateway(
      (dir) => ({
        platforms: { labvanced: { namespaces: { '*': {} } } },
        sinks: [{ name: 'rec', module: recordingSink, options: { file: `${dir}/d.jsonl` } }],
      }),
      { roles: { api: true, worker: false } },
    );
  });
  afterEach(async () => {
    await t.close();
  });

  it('keeps a trial too wide or too deep for the limits in quarantine, raw, answers {"success": true}, and publishes nothing of it', async () => {
    const post = (type: string, body: string) =>
      request(t.gateway.app!)
        .post('/labvanced/x/recordTrial')
        .set('Origin', 'https://www.labvanced.com')
        .set('Content-Type', type)
        .send(body);
    const head = '{"expSessionNr":1,"recTaskId":1,"trialNr":1,"recData":{"data":{"x":';
    const bombs: [string, string][] = [
      ['application/json', `${head}[${'{},'.repeat(250_000)}{}]}}}`],
      ['application/json', `${head}${'['.repeat(5000)}${']'.repeat(5000)}}}}`],
      [
        'application/x-www-form-urlencoded',
        `expSessionNr=1&recTaskId=1&${Array.from({ length: 250_000 }, (_, i) => `recData[data][x][]=${i}`).join('&')}`,
      ],
      ['application/x-www-form-urlencoded', `expSessionNr=1&recData${'[d]'.repeat(100)}=1`],
    ];
    for (const [type, body] of bombs) await post(type, body).expect(200, { success: true });
    await post('application/json', `${head}[1,2,3]}}}`).expect(200, { success: true });
    const kept = await readQuarantine(t, 'labvanced', 'x');
    assert.deepEqual(
      kept.map((k) => k.record.reason),
      ['over-limits', 'over-limits', 'over-limits', 'over-limits'],
    );
    assert.deepEqual(
      kept.map((k) => k.body!.toString()),
      bombs.map(([, b]) => b),
    );
    const events = await queuedEvents(t.prefix, 'rec');
    assert.equal(events.length, 1, 'only the normal trial');
    const health = await request(t.gateway.app!).get('/healthz');
    assert.equal(health.status, 200);
  });
});
