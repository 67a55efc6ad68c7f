import assert from 'node:assert/strict';
import request from 'supertest';
import { queueState } from './helpers/queue-state.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';

const ORIGIN = 'https://www.labvanced.com';

/**
 * A numeric start_time / end_time is read as a UNIX time for the event's `time`; one beyond the
 * range of a Date (±8.64e15 ms) made toISOString() throw inside normalise: 500, kept nowhere, on
 * routes whose player retries anything but success.
 */
describe('Labvanced: a numeric time no Date can hold', () => {
  let t: TestGateway;
  before(async () => {
    t = await startGateway({ platforms: { labvanced: { namespaces: { lab: {} } } } });
  });
  after(async () => {
    await t.close();
  });

  for (const [route, field, value] of [
    ['setPlayerSessionStartedTime', 'start_time', 1e300],
    ['finishExpSession', 'end_time', 9e15],
    ['recordStartTask', 'start_time', Number.MAX_VALUE],
  ] as const)
    it(`is acknowledged and published without a time (${route}, ${field}: ${value})`, async () => {
      const before = (await queueState(t, 'archive')).jobs;
      const res = await request(t.gateway.app!)
        .post(`/labvanced/lab/${route}`)
        .set({ origin: ORIGIN, 'content-type': 'application/json' })
        .send(JSON.stringify({ expSessionNr: `odd-${route}`, recTaskId: 3, [field]: value }));
      assert.equal(res.status, 200, res.text);
      assert.deepEqual(res.body, { success: true });
      assert.equal((await queueState(t, 'archive')).jobs - before, 1);
    });
});
