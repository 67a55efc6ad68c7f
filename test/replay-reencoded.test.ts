import assert from 'node:assert/strict';
import request from 'supertest';
import { queueState } from './helpers/queue-state.js';
import { startGateway, type TestGateway } from './helpers/gateway.js';
import { actigraphSignature, prolificSignature } from './helpers/sign.js';

const SECRET = 'prolific-workspace-secret-reenc';
const PASSCODE = 'actigraph-passcode-reenc';

/**
 * The replay guard (test/replay-guard.test.ts) keys a signed request on what its signature covers.
 * Both verifiers accept more than one byte sequence per signature: Prolific's json.dumps form (any
 * spacing of the same JSON), ActiGraph's body with or without a leading BOM. A captured delivery
 * resent in another of those forms, under a new event id, must still be recognised as a replay.
 */
describe('a signed request resent under another event id, its body re-encoded', () => {
  let t: TestGateway;
  before(async () => {
    t = await startGateway({
      platforms: {
        prolific: { namespaces: { lab: { secrets: [SECRET] } } },
        actigraph: { namespaces: { wear: { auth: 'hmac', passcodes: [PASSCODE] } } },
      },
    });
  });
  after(async () => {
    await t.close();
  });

  const submission = {
    event_type: 'submission.status.change',
    resource_id: 'sub-reenc',
    participant_id: 'p-reenc',
    study_id: 'st-reenc',
    status: 'APPROVED',
  };

  for (const [what, sent, signed] of [
    // Prolific's example: the body on the wire is json.dumps output, and the signature covers it.
    ['sent as json.dumps, resent compact', 'dumps', 'dumps'],
    // The verifier's other form: a compact body whose signature covers its json.dumps form.
    ['sent compact (signed as json.dumps), resent with other spacing', 'compact', 'dumps'],
  ] as const)
    it(`is delivered once (Prolific, ${what})`, async () => {
      const data = { ...submission, resource_id: `${submission.resource_id}-${sent}` };
      const compact = JSON.stringify(data);
      // Python's json.dumps of it (", " and ": " separators; every value here is ASCII).
      const dumps = `{${Object.entries(data)
        .map(([k, v]) => `${JSON.stringify(k)}: ${JSON.stringify(v)}`)
        .join(', ')}}`;
      const body = sent === 'dumps' ? dumps : compact;
      const replayed = sent === 'dumps' ? compact : JSON.stringify(data, null, 2);
      const ts = String(Math.floor(Date.now() / 1000));
      const headers = {
        'content-type': 'application/json',
        'x-prolific-request-timestamp': ts,
        'x-prolific-request-signature': prolificSignature(
          SECRET,
          ts,
          signed === 'dumps' ? dumps : body,
        ),
      };
      const before = (await queueState(t, 'archive')).jobs;
      await request(t.gateway.app!)
        .post('/prolific/lab')
        .set({ ...headers, 'x-event-id': `evt-original-${sent}` })
        .send(body)
        .expect(200);
      await request(t.gateway.app!)
        .post('/prolific/lab')
        .set({ ...headers, 'x-event-id': `evt-forged-${sent}` })
        .send(replayed)
        .expect(200);
      await request(t.gateway.app!).post('/prolific/lab').set(headers).send(replayed).expect(200);
      assert.equal((await queueState(t, 'archive')).jobs - before, 1);
    });

  it('is delivered once (ActiGraph, resent with a leading UTF-8 BOM)', async () => {
    const body = JSON.stringify({
      status: 'completed',
      uploadId: 'up-reenc',
      studyId: '8',
      subjectId: '2358',
    });
    const headers = {
      'content-type': 'application/json',
      'x-actigraph-event': 'upload',
      'x-actigraph-signature': actigraphSignature(PASSCODE, body),
    };
    const before = (await queueState(t, 'archive')).jobs;
    await request(t.gateway.app!)
      .post('/actigraph/wear')
      .set({ ...headers, 'x-actigraph-delivery': 'd-original' })
      .send(body)
      .expect(200);
    await request(t.gateway.app!)
      .post('/actigraph/wear')
      .set({ ...headers, 'x-actigraph-delivery': 'd-forged' })
      .send(`\ufeff${body}`)
      .expect(200);
    assert.equal((await queueState(t, 'archive')).jobs - before, 1);
  });
});
