import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import request from 'supertest';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { B1, B2, B3, S, SIG_B1, T } from './fixtures/prolific/vectors.js';
import {
  testPrefix,
  fixtures,
  recordingSink,
  REDIS_URL,
  startGateway,
  waitFor,
  type TestGateway,
} from './helpers/gateway.js';
import { queueState, settled } from './helpers/queue-state.js';
import { queuedEvents, readQuarantine } from './helpers/quarantine.js';
import { prolificSignature } from './helpers/sign.js';

const orderingSink = join(fixtures, 'sinks', 'prolific-ordering-sink.ts');
const sign = (body: string, ts: string, secret = S) => prolificSignature(secret, ts, body);

describe('Prolific webhooks through the real pipeline', () => {
  let t: TestGateway;
  let out: string;
  let order: string;

  beforeEach(async () => {
    t = await startGateway((dir) => {
      out = join(dir, 'deliveries.jsonl');
      order = join(dir, 'order.jsonl');
      return {
        platforms: {
          prolific: {
            namespaces: {
              lab: { secrets: [S] },
              rotated: { secrets: ['the-new-secret', S] },
              strict: { secrets: [S], timestampToleranceSeconds: 300 },
            },
          },
        },
        sinks: [
          { name: 'rec', module: recordingSink, options: { file: out } },
          {
            name: 'order',
            module: orderingSink,
            options: { file: order, redisUrl: REDIS_URL, prefix: testPrefix('order') },
          },
        ],
      };
    });
  });
  afterEach(async () => {
    await t.close();
  });

  /** Posts a body signed like Prolific does (timestamp + body), unless `headers` overrides a header. */
  function deliver(body: string, headers: Record<string, string | undefined> = {}, ns = 'lab') {
    const ts = headers['X-Prolific-Request-Timestamp'] ?? T;
    const all: Record<string, string | undefined> = {
      'Content-Type': 'application/json',
      'X-Event-ID': `evt-${sign(body, ts).slice(0, 12)}`,
      'X-Timestamp': ts,
      'X-Prolific-Request-Timestamp': ts,
      'X-Prolific-Request-Signature': sign(body, ts),
      ...headers,
    };
    let r = request(t.gateway.app!).post(`/prolific/${ns}`);
    for (const [k, v] of Object.entries(all)) if (v !== undefined) r = r.set(k, v);
    return r.send(body);
  }
  const deliveries = () => readDeliveries(out);

  it('delivers the worked example as prolific.submission.status.change with its id, subject, participant, status and X-Timestamp', async () => {
    const res = await deliver(B1, {
      'X-Event-ID': 'evt-example-0001',
      'X-Prolific-Request-Signature': SIG_B1,
    });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { ok: true, events: ['evt-example-0001'] });
    const [d] = await waitFor('one delivery', () => {
      const all = deliveries();
      return all.length === 1 && all;
    });
    const e = d!.event;
    assert.equal(e.id, 'evt-example-0001');
    assert.equal(e.type, 'prolific.submission.status.change');
    assert.equal(e['source'], '/prolific/lab');
    assert.equal(e['subject'], '60d9aadeb86739de712faee0');
    assert.equal(e['participantid'], '5e9a3a4b2c1d0e0f12345678');
    assert.equal(e['studyid'], undefined);
    assert.equal(e['status'], 'APPROVED');
    assert.equal(e['prolifictimestamp'], '1700000000');
    assert.equal(e['time'], '2023-11-14T22:13:20.000Z');
    assert.equal(e['signedform'], 'raw');
    assert.deepEqual(e['data'], JSON.parse(B1));
  });

  it('accepts a compact body signed in the Python json.dumps form, and a study.status.change', async () => {
    await deliver(B2, { 'X-Event-ID': 'compact', 'X-Prolific-Request-Signature': SIG_B1 }).expect(
      200,
    );
    await deliver(B3, { 'X-Event-ID': 'study' }).expect(200);
    const all = await waitFor('two deliveries', () => {
      const d = deliveries();
      return d.length === 2 && d;
    });
    const compact = all.find((d) => d.event.id === 'compact')!.event;
    assert.equal(compact['signedform'], 'json.dumps');
    const study = all.find((d) => d.event.id === 'study')!.event;
    assert.equal(study.type, 'prolific.study.status.change');
    assert.equal(study['studyid'], '60aca280709ee40ec37d4885');
    assert.equal(study['status'], 'AWAITING REVIEW');
    assert.deepEqual((study['data'] as { metadata: unknown }).metadata, {});
  });

  it('answers 401 and stores nothing when a body byte, a header or the secret is wrong', async () => {
    const cases: Record<string, string | undefined>[] = [
      { 'X-Prolific-Request-Signature': sign(B1, T, 'another-secret') },
      { 'X-Prolific-Request-Signature': SIG_B1.replace('9QF', '9QG') },
      { 'X-Prolific-Request-Signature': SIG_B1, 'X-Prolific-Request-Timestamp': '1700000001' },
      { 'X-Prolific-Request-Signature': undefined },
      { 'X-Prolific-Request-Timestamp': undefined, 'X-Prolific-Request-Signature': SIG_B1 },
    ];
    for (const headers of cases) await deliver(B1, headers).expect(401);
    await deliver(B1.replace('APPROVED', 'APPROVEE'), {
      'X-Prolific-Request-Signature': SIG_B1,
    }).expect(401);
    await deliver(B1, {}, 'nowhere').expect(404);
    assert.equal((await queueState(t, 'rec')).jobs, 0, 'no job for any refused call');
    assert.equal((await queueState(t, 'archive')).jobs, 0);
    const archive = join(
      t.dataDir,
      'events',
      'prolific',
      'lab',
      `${new Date().toISOString().slice(0, 10)}.jsonl`,
    );
    assert.equal(await readFile(archive, 'utf8').catch(() => ''), '');
    assert.ok(!t.logs.join('').includes(SIG_B1), 'the signature is never logged');
  });

  it('delivers study.progress.change, study.has_high_return_rate and unknown event types as prolific.<event_type>', async () => {
    const bodies = [
      { resource_id: 'st1', event_type: 'study.progress.change' },
      { resource_id: 'st2', event_type: 'study.has_high_return_rate', metadata: { rate: 0.4 } },
      {
        resource_id: 'sub9',
        event_type: 'participant.submission.created',
        status: 'PROCESSING',
        extra: [1],
      },
      { resource_id: 'x', event_type: 'Odd Type!' },
    ];
    for (const b of bodies)
      await deliver(JSON.stringify(b), { 'Content-Type': 'text/plain' }).expect(200);
    const all = await waitFor('four deliveries', () => {
      const d = deliveries();
      return d.length === 4 && d;
    });
    const byType = new Map(all.map((d) => [d.event.type, d.event]));
    assert.deepEqual([...byType.keys()].sort(), [
      'prolific.odd_type_',
      'prolific.participant.submission.created',
      'prolific.study.has_high_return_rate',
      'prolific.study.progress.change',
    ]);
    assert.equal(byType.get('prolific.study.has_high_return_rate')!['studyid'], 'st2');
    const unknown = byType.get('prolific.participant.submission.created')!;
    assert.equal(unknown['status'], 'PROCESSING');
    assert.deepEqual(unknown['data'], bodies[2]);
  });

  it('acknowledges a redelivered X-Event-ID with 2xx and delivers it once', async () => {
    const first = await deliver(B3, { 'X-Event-ID': 'evt-retried' }).expect(200);
    await settled(t, 'rec');
    assert.equal(deliveries().length, 1);
    const again = await deliver(B3, {
      'X-Event-ID': 'evt-retried',
      'X-Prolific-Request-Timestamp': '1700000060',
    });
    assert.ok(again.status >= 200 && again.status < 300);
    assert.deepEqual(again.body.events, first.body.events);
    assert.equal((await queueState(t, 'rec')).jobs, 1, 'the redelivery added no job');
    await settled(t, 'rec');
    assert.equal(deliveries().length, 1);
  });

  it('keeps a signed but malformed body in quarantine and answers 202 so Prolific stops retrying', async () => {
    const res = await deliver(
      JSON.stringify({
        resource_id: 's1',
        event_type: 'submission.status.change',
        status: 'APPROVED',
      }),
    );
    assert.equal(res.status, 202);
    const kept = readFileSync(
      join(
        t.dataDir,
        'quarantine',
        'prolific',
        'lab',
        `${new Date().toISOString().slice(0, 10)}.jsonl`,
      ),
      'utf8',
    );
    assert.match(kept, /participant_id/);
    assert.equal((await queueState(t, 'rec')).jobs, 0, 'nothing is queued for a quarantined body');
  });

  it('keeps a signed body that is not valid JSON in quarantine, raw, and answers 202 so Prolific stops retrying; an unsigned one gets 401 and nothing is kept', async () => {
    const broken =
      '{"resource_id": "s2", "event_type": "submission.status.change", "status": "APPROVED",';
    await deliver(broken, { 'X-Prolific-Request-Signature': 'not-the-signature' }).expect(401);
    assert.equal(existsSync(join(t.dataDir, 'quarantine')), false);
    const res = await deliver(broken);
    assert.equal(res.status, 202);
    assert.deepEqual(res.body, { ok: true, quarantined: true });
    const [kept] = await readQuarantine(t, 'prolific', 'lab');
    assert.equal(kept!.body!.toString(), broken);
    assert.equal(kept!.record.reason, 'unreadable');
    assert.equal(kept!.record.request!.headers['x-prolific-request-signature'], '[redacted]');
    assert.deepEqual(await queuedEvents(t.prefix, 'rec'), []);
  });

  it('accepts the previous secret after a rotation, and refuses an old timestamp where a tolerance is set', async () => {
    await deliver(B1, {}, 'rotated').expect(200);
    await deliver(
      B1,
      { 'X-Prolific-Request-Signature': sign(B1, T, 'the-new-secret') },
      'rotated',
    ).expect(200);
    await deliver(B1, {}, 'strict').expect(401);
    const now = String(Math.floor(Date.now() / 1000));
    await deliver(B1, { 'X-Prolific-Request-Timestamp': now }, 'strict').expect(200);
  });

  it('lets a sink see that an event is older than the newest already seen for the same resource', async () => {
    const status = (s: string) =>
      JSON.stringify({
        resource_id: 'sub-1',
        event_type: 'submission.status.change',
        participant_id: 'p1',
        status: s,
      });
    const seen = () =>
      readFileSync(order, { encoding: 'utf8', flag: 'a+' })
        .trim()
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { id: string; stale: boolean });
    const steps: [string, string, string, boolean][] = [
      ['approved', status('APPROVED'), '1700000200', false],
      ['late-awaiting', status('AWAITING REVIEW'), '1700000100', true],
      // why: other bytes than 'approved' (a space): the same signed bytes again would be a replay, acknowledged and not delivered.
      ['same-second', status('APPROVED').replace('{', '{ '), '1700000200', false],
      [
        'other-resource',
        JSON.stringify({
          resource_id: 'st-9',
          event_type: 'study.status.change',
          status: 'ACTIVE',
        }),
        '1700000000',
        false,
      ],
    ];
    for (const [id, body, ts, stale] of steps) {
      await deliver(body, { 'X-Event-ID': id, 'X-Timestamp': ts }).expect(200);
      const got = await waitFor(`ordering verdict for ${id}`, () =>
        seen().find((s) => s.id === id),
      );
      assert.equal(got.stale, stale, id);
    }
  });
});
