import assert from 'node:assert/strict';
import { NAMESPACE_PATTERN, pathSegments } from '../src/http/path-segments.js';
import { withTimeout } from '../src/util/timeout.js';

describe('withTimeout', () => {
  const never = new Promise<string>(() => undefined);

  it("gives the work's result, or its rejection, when the work settles first", async () => {
    assert.equal(await withTimeout(Promise.resolve('done'), 60000, () => 'late'), 'done');
    await assert.rejects(
      withTimeout(Promise.reject(new Error('boom')), 60000, () => 'late'),
      /boom/,
    );
  });

  it("gives onTimeout's value, or rejects with what it throws, when the time is up first", async () => {
    assert.equal(await withTimeout(never, 1, () => 'late' as const), 'late');
    await assert.rejects(
      withTimeout(never, 1, () => {
        throw new Error('no answer in 1 ms');
      }),
      /no answer in 1 ms/,
    );
  });
});

describe('pathSegments and NAMESPACE_PATTERN', () => {
  it('skips empty segments and decodes each, keeping one that does not decode', () => {
    assert.deepEqual(pathSegments('//sensorlogger//pilot/'), ['sensorlogger', 'pilot']);
    assert.deepEqual(pathSegments('/labvanced/a%20b/%E0%A4%A'), ['labvanced', 'a b', '%E0%A4%A']);
    assert.deepEqual(pathSegments('/'), []);
  });

  it('takes letters, digits, _ and - up to 64 characters as a namespace', () => {
    for (const ok of ['default', 'lab_1-A', 'x'.repeat(64)])
      assert.ok(NAMESPACE_PATTERN.test(ok), ok);
    for (const bad of ['', 'x'.repeat(65), 'a.b', 'a b', '*', 'é'])
      assert.ok(!NAMESPACE_PATTERN.test(bad), bad);
  });
});
