import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isoTime } from '../src/event/build-event.js';

describe('isoTime (receivedat with the second cached)', () => {
  it('equals Date#toISOString for any time, in any order of calls', () => {
    // why: calls jump between seconds and come back, so a stale cached second would show.
    fc.assert(fc.property(fc.array(fc.integer({ min: -62167219200000, max: 253402300799999 }), { minLength: 1, maxLength: 20 }), (times) => {
      for (const t of times) assert.equal(isoTime(new Date(t)), new Date(t).toISOString());
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
