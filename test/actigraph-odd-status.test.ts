import assert from 'node:assert/strict';
import request from 'supertest';
import { queueState } from './helpers/queue-state.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { actigraphSignature } from './helpers/sign.js';

const PASSCODE = 'actigraph-passcode-odd-status';

/**
 * Events other than `upload` have no schema beyond "an object" (actigraph.md: kept as sent), so a
 * status field may hold anything JSON can: an object whose `toString` is not a function cannot be
 * turned into a string by String(), which threw inside normalise (500, nothing kept) for a signed delivery.
 */
describe('ActiGraph: a signed delivery whose status is an object String() cannot convert', () => {
  let t: TestGateway;
  before(async () => {
    t = await startGateway({
      platforms: { actigraph: { namespaces: { wear: { auth: 'hmac', passcodes: [PASSCODE] } } } },
    });
  });
  after(async () => {
    await t.close();
  });

  for (const [event, field] of [
    ['raw_processing_complete', 'status'],
    ['data_retrieval_complete', 'request_status'],
    ['upload', 'status'],
  ] as const)
    it(`is answered 200 and kept (${event}, ${field})`, async () => {
      const body = JSON.stringify({
        uploadId: 'up-odd',
        studyId: '8',
        subjectId: '2358',
        ...(event === 'upload' ? {} : { status: 'Completed' }),
        [field]: { toString: 'x', valueOf: 1 },
      });
      const before = (await queueState(t, 'archive')).jobs;
      const res = await request(t.gateway.app!)
        .post('/actigraph/wear')
        .set({
          'content-type': 'application/json',
          'x-actigraph-event': event,
          'x-actigraph-delivery': `odd-${event}`,
          'x-actigraph-signature': actigraphSignature(PASSCODE, body),
        })
        .send(body);
      assert.equal(res.status, 200, res.text);
      const queued = (await queueState(t, 'archive')).jobs - before;
      const kept = t.logs.some(
        (l) => l.includes('payload quarantined') && l.includes('"platform":"actigraph"'),
      );
      assert.ok(queued === 1 || kept, `neither published (${queued} jobs) nor quarantined`);
    });
});
