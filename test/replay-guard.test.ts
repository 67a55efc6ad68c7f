import assert from 'node:assert/strict';
import { hash } from 'node:crypto';
import { Redis } from 'ioredis';
import request from 'supertest';
import { queueState } from './helpers/queue-state.js';
import { REDIS_URL, startGateway, type TestGateway } from './helpers/gateway.js';
import { actigraphSignature, prolificSignature } from './helpers/sign.js';

const SECRET = 'prolific-workspace-secret';
const PASSCODE = 'actigraph-passcode';

describe('a signed request resent under another event id', () => {
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

  it('is acknowledged but delivered once (Prolific: a new, or no, X-Event-ID)', async () => {
    const body = JSON.stringify({
      event_type: 'submission.status.change',
      resource_id: 'sub-1',
      participant_id: 'p-1',
      study_id: 'st-1',
      status: 'APPROVED',
    });
    const ts = String(Math.floor(Date.now() / 1000));
    const headers = {
      'content-type': 'application/json',
      'x-prolific-request-timestamp': ts,
      'x-prolific-request-signature': prolificSignature(SECRET, ts, body),
    };
    const before = (await queueState(t, 'archive')).jobs;
    await request(t.gateway.app!)
      .post('/prolific/lab')
      .set({ ...headers, 'x-event-id': 'evt-original' })
      .send(body)
      .expect(200);
    await request(t.gateway.app!)
      .post('/prolific/lab')
      .set({ ...headers, 'x-event-id': 'evt-forged' })
      .send(body)
      .expect(200);
    await request(t.gateway.app!).post('/prolific/lab').set(headers).send(body).expect(200);
    await request(t.gateway.app!)
      .post('/prolific/lab')
      .set({ ...headers, 'x-event-id': 'evt-original' })
      .send(body)
      .expect(200);
    assert.equal((await queueState(t, 'archive')).jobs - before, 1);
    assert.ok(
      t.logs.some((l) => l.includes('resent under another event id') && l.includes('evt-forged')),
    );
  });

  it('is acknowledged but delivered once (ActiGraph: a new X-ActiGraph-Delivery)', async () => {
    const body = JSON.stringify({
      status: 'completed',
      uploadId: 'up-9',
      studyId: '8',
      subjectId: '2358',
    });
    const headers = {
      'content-type': 'application/json',
      'x-actigraph-event': 'upload',
      'x-actigraph-signature': actigraphSignature(PASSCODE, body),
    };
    const before = (await queueState(t, 'archive')).jobs;
    for (const delivery of ['d-1', 'd-2', 'd-3'])
      await request(t.gateway.app!)
        .post('/actigraph/wear')
        .set({ ...headers, 'x-actigraph-delivery': delivery })
        .send(body)
        .expect(200);
    assert.equal((await queueState(t, 'archive')).jobs - before, 1);
  });

  it('is delivered when the request that claimed it first never reached a queue', async () => {
    const body = JSON.stringify({
      event_type: 'submission.status.change',
      resource_id: 'sub-2',
      participant_id: 'p-2',
      study_id: 'st-1',
      status: 'RETURNED',
    });
    const ts = String(Math.floor(Date.now() / 1000));
    const sig = prolificSignature(SECRET, ts, body);
    // A first attempt that claimed the signed request, then failed before its jobs were added.
    const key = hash('sha256', ['prolific', 'lab', hash('sha256', body), ts, sig].join('\u001f'));
    const redis = new Redis(REDIS_URL);
    await redis.set(`${t.prefix}:replay:${key}:0`, 'evt-lost-attempt', 'PX', 60000);
    redis.disconnect();
    const before = (await queueState(t, 'archive')).jobs;
    await request(t.gateway.app!)
      .post('/prolific/lab')
      .set({
        'content-type': 'application/json',
        'x-event-id': 'evt-retry',
        'x-prolific-request-timestamp': ts,
        'x-prolific-request-signature': sig,
      })
      .send(body)
      .expect(200);
    assert.equal((await queueState(t, 'archive')).jobs - before, 1);
  });
});
