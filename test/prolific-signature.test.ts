import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { pythonFloat, pythonJsonDumps } from '../adapters/prolific/python-json.js';
import { prolificSignedForm, timestampMs } from '../adapters/prolific/verify.js';
import type { IncomingRequest } from '../src/adapter/types.js';
import { B1, B2, B3, S, SIG_B1, SIG_B2, SIG_B3, T } from './fixtures/prolific/vectors.js';

function req(
  body: string,
  headers: Record<string, string | undefined>,
  receivedAt = new Date(Number(T) * 1000),
): IncomingRequest {
  return {
    method: 'POST',
    platform: 'prolific',
    namespace: 'n',
    route: '',
    params: {},
    headers,
    query: {},
    body: Buffer.from(body),
    ip: '127.0.0.1',
    requestId: 'r',
    receivedAt,
  };
}
const signed = (body: string, sig: string, ts = T) =>
  req(body, { 'x-prolific-request-signature': sig, 'x-prolific-request-timestamp': ts });

describe('Prolific signature verification (doc test vectors)', () => {
  it('has the documented byte lengths for the worked examples', () => {
    assert.deepEqual([B1.length, B2.length, B3.length], [153, 146, 125]);
  });

  it('verifies B1 and B3 over the raw bytes and B2 with its own signature', () => {
    assert.equal(prolificSignedForm(signed(B1, SIG_B1), { secrets: [S] }), 'raw');
    assert.equal(prolificSignedForm(signed(B2, SIG_B2), { secrets: [S] }), 'raw');
    assert.equal(prolificSignedForm(signed(B3, SIG_B3), { secrets: [S] }), 'raw');
  });

  it('verifies a compact body signed in the Python json.dumps form through the fallback', () => {
    assert.equal(pythonJsonDumps(B2), B1);
    assert.equal(prolificSignedForm(signed(B2, SIG_B1), { secrets: [S] }), 'json.dumps');
  });

  it('refuses one changed body byte, a changed timestamp, another secret or a missing header', () => {
    assert.equal(
      prolificSignedForm(signed(B1.replace('APPROVED', 'APPROVEE'), SIG_B1), { secrets: [S] }),
      undefined,
    );
    assert.equal(prolificSignedForm(signed(B1, SIG_B1, '1700000001'), { secrets: [S] }), undefined);
    assert.equal(prolificSignedForm(signed(B1, SIG_B1), { secrets: [`${S}x`] }), undefined);
    assert.equal(
      prolificSignedForm(signed(B1, SIG_B1.replace('9QF', '9QG')), { secrets: [S] }),
      undefined,
    );
    assert.equal(
      prolificSignedForm(req(B1, { 'x-prolific-request-signature': SIG_B1 }), { secrets: [S] }),
      undefined,
    );
    assert.equal(
      prolificSignedForm(req(B1, { 'x-prolific-request-timestamp': T }), { secrets: [S] }),
      undefined,
    );
    assert.equal(prolificSignedForm(signed('{not json', SIG_B1), { secrets: [S] }), undefined);
  });

  it('accepts any of several secrets (rotation)', () => {
    assert.equal(prolificSignedForm(signed(B3, SIG_B3), { secrets: ['new-secret', S] }), 'raw');
  });

  it('enforces the timestamp tolerance only when the namespace sets one', () => {
    const late = new Date((Number(T) + 600) * 1000);
    const r = req(
      B1,
      { 'x-prolific-request-signature': SIG_B1, 'x-prolific-request-timestamp': T },
      late,
    );
    assert.equal(prolificSignedForm(r, { secrets: [S] }), 'raw');
    assert.equal(prolificSignedForm(r, { secrets: [S], timestampToleranceSeconds: 900 }), 'raw');
    assert.equal(
      prolificSignedForm(r, { secrets: [S], timestampToleranceSeconds: 300 }),
      undefined,
    );
  });

  it('reads timestamps as seconds, fractional seconds or milliseconds', () => {
    assert.equal(timestampMs('1700000000'), 1700000000000);
    assert.equal(timestampMs('1700000000.5'), 1700000000500);
    assert.equal(timestampMs('1700000000123'), 1700000000123);
    assert.equal(timestampMs('soon'), undefined);
    assert.equal(timestampMs(undefined), undefined);
  });
});

describe('Python json.dumps re-serialisation', () => {
  const fixture = JSON.parse(
    readFileSync(new URL('./fixtures/prolific/python-json-dumps.json', import.meta.url), 'utf8'),
  ) as { cases: { input: string; output: string }[] };

  it('prints exactly what CPython prints for the recorded cases (order, floats, big ints, escapes, duplicate keys)', () => {
    for (const c of fixture.cases) assert.equal(pythonJsonDumps(c.input), c.output, c.input);
  });

  it('prints floats like Python repr', () => {
    const cases: [number, string][] = [
      [1, '1.0'],
      [0.1, '0.1'],
      [1e16, '1e+16'],
      [1e15, '1000000000000000.0'],
      [1e-5, '1e-05'],
      [0.0001, '0.0001'],
      [-2.5e-7, '-2.5e-07'],
      [123.456, '123.456'],
      [-0, '-0.0'],
    ];
    for (const [x, s] of cases) assert.equal(pythonFloat(x), s, String(x));
  });

  it('round-trips to the same JSON value as JSON.parse for any JSON document', () => {
    fc.assert(
      fc.property(fc.json(), (text) => {
        const again = pythonJsonDumps(text).replace(/\bInfinity\b/g, '1e999');
        assert.deepEqual(JSON.parse(again), JSON.parse(text));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses what json.loads refuses', () => {
    for (const bad of ['{"a":1,}', '[1 2]', '{"a":01}', '"\u0001"', '{} x', ''])
      assert.throws(() => pythonJsonDumps(bad), SyntaxError, bad);
  });
});
