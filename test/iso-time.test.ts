import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isoTime } from '../src/event/build-event.js';

describe('isoTime (receivedat with the second cached)', () => {
  it('equals Date#toISOString for any time, in any order of calls', () => {
    // why: a few seconds drawn anywhere, then milliseconds within them in any order, so calls hit the
    // cached second and jump between seconds and back: a stale or wrong cached prefix would show.
    const second = fc.integer({ min: -62167219200, max: 253402300799 });
    const calls = fc.array(second, { minLength: 1, maxLength: 3 }).chain((seconds) => fc.array(fc.tuple(fc.constantFrom(...seconds), fc.integer({ min: 0, max: 999 })), { minLength: 1, maxLength: 30 }));
    fc.assert(fc.property(calls, (times) => {
      for (const [s, ms] of times) assert.equal(isoTime(new Date(s * 1000 + ms)), new Date(s * 1000 + ms).toISOString());
    }), { numRuns: 500 });
  });

  it('pads the milliseconds and leaves dates outside years 0000–9999 to toISOString', () => {
    const base = Date.UTC(2026, 11, 1, 19, 0, 0);
    for (const ms of [0, 7, 42, 999]) assert.equal(isoTime(new Date(base + ms)), new Date(base + ms).toISOString());
    assert.equal(isoTime(new Date(base - 1)), '2026-12-01T18:59:59.999Z');
    assert.equal(isoTime(new Date(Date.UTC(10000, 0, 1))), '+010000-01-01T00:00:00.000Z');
    assert.equal(isoTime(new Date(-62198755200000)), new Date(-62198755200000).toISOString());
    assert.throws(() => isoTime(new Date(Number.NaN)), RangeError);
  });
});
