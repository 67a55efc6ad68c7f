import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import request from 'supertest';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { startPrivateRedis } from './helpers/private-redis.js';
import {
  REDIS_URL,
  recordingSink,
  startGateway,
  waitFor,
  type TestGateway,
} from './helpers/gateway.js';
import { queueState, settled } from './helpers/queue-state.js';
import { queuedEvents, readQuarantine } from './helpers/quarantine.js';

const TOKEN = '3f9c1e5a7b2d4c6e8f0a1b3c5d7e9f10aabbccddeeff0011';
const TEST_TOKEN = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718';

// shared/platforms/mydatahelps.md, Schedule Triggered version A (PascalCase, legacy key, empty ScheduleID).
const scheduleA = {
  EventType: 'ScheduleTriggered',
  PatientIdentifier: 'MDH-2096-3595',
  ParticipantIdentifier: 'MDH-2096-3595',
  ParticipantID: '8949059a-c45d-41a9-832a-67b6a2eeec4f',
  ScheduleID: '',
  ScheduleName: 'Force webhook',
  ProjectID: '66af78b7-d48c-4cb0-9c19-2031b82295a6',
};
// Version B (camelCase).
const scheduleB = {
  eventType: 'ScheduleTriggered',
  projectID: '3a713a06-295d-4803-9602-776f09a1483b',
  participantID: '419d567e-76e6-4b53-8b3c-567d7260a85d',
  participantIdentifier: 'PT-123',
  scheduleID: '083b44c8-4273-4ad5-9132-3dce126d5e62',
  scheduleName: 'Welcome Message',
};
// Survey Submitted: field names beyond the common ones are unconfirmed (the doc's open question 1).
const survey = {
  eventType: 'SurveySubmitted',
  projectID: '3a713a06-295d-4803-9602-776f09a1483b',
  participantIdentifier: 'PT-123',
  participantID: '419d567e-76e6-4b53-8b3c-567d7260a85d',
  surveyResultID: '7d1c0b1e-0000-4000-8000-000000000001',
  surveyName: 'PHQ-9',
};

describe('MyDataHelps webhooks through the real pipeline', () => {
  let t: TestGateway;
  let out: string;
  const deliveries = () => readDeliveries(out);
  const byId = (id: string) =>
    waitFor(`event ${id}`, () => deliveries().find((d) => d.event.id === id));

  beforeEach(async () => {
    t = await startGateway((dir) => {
      out = join(dir, 'deliveries.jsonl');
      return {
        platforms: {
          mydatahelps: {
            namespaces: {
              live: { tokens: [TOKEN] },
              sample: { tokens: [TEST_TOKEN], test: true },
              pilot: { open: true },
              closed: {},
              basic: { basicAuth: [{ username: 'mdh', password: 'basic-password-1' }] },
            },
          },
        },
        sinks: [{ name: 'rec', module: recordingSink, options: { file: out } }],
      };
    });
  });
  afterEach(async () => {
    await t.close();
  });

  it('turns the documented PascalCase Schedule Triggered sample (legacy key, empty ScheduleID) into mydatahelps.schedule.triggered', async () => {
    const res = await request(t.gateway.app!)
      .post(`/mydatahelps/live/${TOKEN}`)
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(scheduleA))
      .expect(200);
    const d = await byId(res.body.events[0]);
    assert.equal(d.event.type, 'mydatahelps.schedule.triggered');
    assert.equal(d.event['source'], '/mydatahelps/live');
    assert.equal(d.event['participantid'], 'MDH-2096-3595');
    assert.equal(d.event['studyid'], scheduleA.ProjectID);
    assert.equal(d.event['subject'], undefined, 'an empty ScheduleID is no subject');
    assert.equal(d.event['testmode'], undefined);
    assert.deepEqual(d.event['data'], scheduleA);
  });

  it('matches camelCase keys of the version B sample and normalises them to the documented spelling', async () => {
    const res = await request(t.gateway.app!)
      .post(`/mydatahelps/live/${TOKEN}`)
      .send(scheduleB)
      .expect(200);
    const d = await byId(res.body.events[0]);
    assert.equal(d.event.type, 'mydatahelps.schedule.triggered');
    assert.equal(d.event['subject'], scheduleB.scheduleID);
    assert.equal(d.event['participantid'], 'PT-123');
    assert.equal(d.event['studyid'], scheduleB.projectID);
    assert.deepEqual(d.event['data'], {
      EventType: 'ScheduleTriggered',
      ProjectID: scheduleB.projectID,
      ParticipantID: scheduleB.participantID,
      ParticipantIdentifier: 'PT-123',
      ScheduleID: scheduleB.scheduleID,
      ScheduleName: 'Welcome Message',
    });
  });

  it('delivers a Survey Submitted call once per survey result id, keeping unknown fields', async () => {
    const body = { ...survey, someNewField: { kept: true } };
    const a = await request(t.gateway.app!)
      .post(`/mydatahelps/live/${TOKEN}`)
      .send(body)
      .expect(200);
    const b = await request(t.gateway.app!)
      .post(`/mydatahelps/live/${TOKEN}`)
      .send(body)
      .expect(200);
    assert.equal(a.body.events[0], b.body.events[0]);
    assert.equal((await queueState(t, 'rec')).jobs, 1, 'the repeat added no job');
    const d = await byId(a.body.events[0]);
    assert.equal(d.event.type, 'mydatahelps.survey.submitted');
    assert.equal(d.event['subject'], survey.surveyResultID);
    assert.equal(d.event['participantid'], 'PT-123');
    const data = d.event['data'] as Record<string, unknown>;
    assert.equal(data['SurveyResultID'], survey.surveyResultID);
    assert.equal(data['SurveyName'], 'PHQ-9');
    assert.deepEqual(data['someNewField'], { kept: true });
    await settled(t, 'rec');
    assert.equal(deliveries().length, 1);
  });

  it('never deduplicates Schedule Triggered: the same schedule firing twice is two events', async () => {
    const a = await request(t.gateway.app!)
      .post(`/mydatahelps/live/${TOKEN}`)
      .send(scheduleB)
      .expect(200);
    const b = await request(t.gateway.app!)
      .post(`/mydatahelps/live/${TOKEN}`)
      .send(scheduleB)
      .expect(200);
    assert.notEqual(a.body.events[0], b.body.events[0]);
    await waitFor('two deliveries', () => deliveries().length === 2);
  });

  it('accepts legacy PatientIdentifier / PatientID alone, an urlencoded body, and keeps an unknown EventType', async () => {
    const legacy = {
      EventType: 'SurveySubmitted',
      PatientIdentifier: 'OLD-1',
      PatientID: 'old-uuid',
      ProjectID: 'p1',
    };
    const l = await request(t.gateway.app!)
      .post(`/mydatahelps/live/${TOKEN}`)
      .send(legacy)
      .expect(200);
    const ld = await byId(l.body.events[0]);
    assert.equal(ld.event['participantid'], 'OLD-1');
    assert.deepEqual(ld.event['data'], {
      ...legacy,
      ParticipantIdentifier: 'OLD-1',
      ParticipantID: 'old-uuid',
    });
    const form = await request(t.gateway.app!)
      .post(`/mydatahelps/live/${TOKEN}`)
      .type('form')
      .send('eventType=ParticipantEnrolled&participantIdentifier=PT-9')
      .expect(200);
    const fd = await byId(form.body.events[0]);
    assert.equal(fd.event.type, 'mydatahelps.participantenrolled');
    assert.equal(fd.event['participantid'], 'PT-9');
  });

  it('keeps a call without EventType in quarantine and answers 422', async () => {
    const res = await request(t.gateway.app!)
      .post(`/mydatahelps/live/${TOKEN}`)
      .send({ participantIdentifier: 'PT-1' });
    assert.equal(res.status, 422);
    const [kept] = await readQuarantine(t, 'mydatahelps', 'live');
    assert.equal(kept!.body!.toString(), '{"participantIdentifier":"PT-1"}');
    assert.equal(kept!.record.route, ':token');
  });

  it('reads a JSON callback whatever its Content-Type says (octet-stream, none, text/plain)', async () => {
    const ids: string[] = [];
    for (const type of ['application/octet-stream', 'text/plain; charset=utf-8', undefined]) {
      const r = request(t.gateway.app!).post(`/mydatahelps/live/${TOKEN}`);
      const body = JSON.stringify({ ...survey, surveyResultID: `sr-${type ?? 'none'}` });
      const res = await (type ? r.set('Content-Type', type) : r).send(Buffer.from(body));
      assert.equal(res.status, 200, `${type}: ${res.text}`);
      ids.push(res.body.events[0]);
    }
    assert.equal((await queuedEvents(t.prefix, 'rec')).filter((e) => ids.includes(e.id)).length, 3);
  });

  it('keeps fields named like Object.prototype members (__proto__, constructor) as sent, without touching any prototype', async () => {
    const text =
      '{"EventType":"SurveySubmitted","ParticipantIdentifier":"PT-7","__proto__":{"EventType":"Forged","polluted":true},"constructor":"c","toString":"t"}';
    const res = await request(t.gateway.app!)
      .post(`/mydatahelps/live/${TOKEN}`)
      .set('Content-Type', 'application/json')
      .send(text)
      .expect(200);
    const [event] = await queuedEvents(t.prefix, 'rec');
    assert.equal(event!.id, res.body.events[0]);
    assert.equal(event!.type, 'mydatahelps.survey.submitted');
    const data = event!['data'] as Record<string, unknown>;
    assert.deepEqual(Object.keys(data), [
      'EventType',
      'ParticipantIdentifier',
      '__proto__',
      'constructor',
      'toString',
    ]);
    assert.deepEqual(data['__proto__'], { EventType: 'Forged', polluted: true });
    assert.equal(({} as { polluted?: unknown }).polluted, undefined);
    const odd = await request(t.gateway.app!)
      .post(`/mydatahelps/live/${TOKEN}`)
      .send({ EventType: 'constructor' })
      .expect(200);
    const typed = (await queuedEvents(t.prefix, 'rec')).find((e) => e.id === odd.body.events[0]);
    assert.equal(typed!.type, 'mydatahelps.constructor');
  });

  it('answers 401 when the URL token is wrong or missing, or the namespace has no credentials and is not open', async () => {
    await request(t.gateway.app!)
      .post('/mydatahelps/live/wrong-token-guess-0000')
      .send(scheduleB)
      .expect(401);
    await request(t.gateway.app!).post('/mydatahelps/live').send(scheduleB).expect(401);
    await request(t.gateway.app!)
      .post(`/mydatahelps/live/${TEST_TOKEN}`)
      .send(scheduleB)
      .expect(401);
    await request(t.gateway.app!).post('/mydatahelps/closed').send(scheduleB).expect(401);
    await request(t.gateway.app!).post(`/mydatahelps/closed/${TOKEN}`).send(scheduleB).expect(401);
    await request(t.gateway.app!)
      .post(`/mydatahelps/elsewhere/${TOKEN}`)
      .send(scheduleB)
      .expect(404);
    assert.equal((await queueState(t, 'rec')).jobs, 0, 'no job for any refused call');
  });

  it('accepts calls without a token on an open namespace, and Basic credentials where configured', async () => {
    await request(t.gateway.app!).post('/mydatahelps/pilot').send(scheduleB).expect(200);
    await request(t.gateway.app!)
      .post('/mydatahelps/basic')
      .auth('mdh', 'basic-password-1')
      .send(scheduleB)
      .expect(200);
    await request(t.gateway.app!)
      .post('/mydatahelps/basic')
      .auth('mdh', 'wrong-password')
      .send(scheduleB)
      .expect(401);
    await request(t.gateway.app!).post('/mydatahelps/basic').send(scheduleB).expect(401);
    await waitFor('two deliveries', () => deliveries().length === 2);
  });

  it('marks events of a test namespace with testmode: true', async () => {
    const res = await request(t.gateway.app!)
      .post(`/mydatahelps/sample/${TEST_TOKEN}`)
      .send(survey)
      .expect(200);
    const d = await byId(res.body.events[0]);
    assert.equal(d.event['testmode'], true);
    assert.equal(d.event['source'], '/mydatahelps/sample');
  });

  it('never writes the URL token to the logs, the archive, the quarantine or anything kept in Redis', async () => {
    await request(t.gateway.app!).post(`/mydatahelps/live/${TOKEN}`).send(survey).expect(200);
    await request(t.gateway.app!)
      .post(`/mydatahelps/live/${TOKEN}`)
      .send({ nothing: 1 })
      .expect(422);
    await request(t.gateway.app!)
      .post('/mydatahelps/live/wrong-token-guess-0000')
      .send(survey)
      .expect(401);
    await waitFor('delivery', () => deliveries().length === 1);
    const archive = await waitFor('the archive line', () =>
      readFile(
        join(
          t.dataDir,
          'events',
          'mydatahelps',
          'live',
          `${new Date().toISOString().slice(0, 10)}.jsonl`,
        ),
        'utf8',
      ).catch(() => ''),
    );
    const quarantine = await readFile(
      join(
        t.dataDir,
        'quarantine',
        'mydatahelps',
        'live',
        `${new Date().toISOString().slice(0, 10)}.jsonl`,
      ),
      'utf8',
    );
    const redis = new Redis(REDIS_URL);
    const kept: string[] = [];
    try {
      for (const key of await redis.keys(`${t.prefix}:*`)) {
        const type = await redis.type(key);
        if (type === 'hash') kept.push(JSON.stringify(await redis.hgetall(key)));
        else if (type === 'string') kept.push(String(await redis.get(key)));
        kept.push(key);
      }
    } finally {
      redis.disconnect();
    }
    const stored = kept.join('\n');
    assert.match(
      stored,
      /"path\\?":\\?"\/mydatahelps\/live\/:token\\?"/,
      'the raw request keeps the route pattern',
    );
    const logs = t.logs.join('');
    assert.match(logs, /"route":":token"/);
    for (const [where, text] of Object.entries({ logs, archive, quarantine, stored })) {
      assert.ok(!text.includes(TOKEN), `${where} leak the token`);
      assert.ok(!text.includes('wrong-token-guess-0000'), `${where} leak a guessed token`);
    }
  });
});

describe('MyDataHelps URL token when the event store fails', () => {
  it('logs the failed request by its route pattern, not by the path that holds the token', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'studyhook-mdh-redis-'));
    const redis = await startPrivateRedis(dir);
    const t = await startGateway(
      {
        redis: { url: redis.url },
        server: { port: 0, host: '127.0.0.1', publishTimeoutMs: 500 },
        spool: { enabled: false },
        platforms: { mydatahelps: { namespaces: { live: { tokens: [TOKEN] } } } },
      },
      { roles: { api: true, worker: false } },
    );
    try {
      await redis.stop();
      const res = await request(t.gateway.app!).post(`/mydatahelps/live/${TOKEN}`).send(survey);
      assert.equal(res.status, 503);
      const logs = t.logs.join('');
      assert.match(logs, /"level":50.*"route":":token"/);
      assert.ok(!logs.includes(TOKEN), 'an error log leaks the token');
    } finally {
      await redis.stop();
      await t.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
