import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import qs from 'qs';
import request from 'supertest';
import { parse, stringify } from 'yaml';
import { quarantine } from '../src/commands/quarantine.js';
import { routes } from './fixtures/labvanced/routes.js';
import { B1, B2, B3, S, T } from './fixtures/prolific/vectors.js';
import { recordingSink, startGateway, type TestGateway } from './helpers/gateway.js';
import { queuedEnvelopes, queuedEvents, readQuarantine } from './helpers/quarantine.js';
import { actigraphSignature, prolificSignature } from './helpers/sign.js';

const CODE = 'sl-republish-secret-code';
const PASSCODE = 'actigraph-republish-passcode';
const TOKEN = '6c1f0e9d8b7a65432100fedcba9876543210abcdef012345';
const ORIGIN = 'https://www.labvanced.com';

const platforms = {
  sensorlogger: { namespaces: { locked: { secretCodes: [CODE] } } },
  prolific: { namespaces: { lab: { secrets: [S] } } },
  labvanced: { namespaces: { '*': {} } },
  actigraph: { namespaces: { hmac: { auth: 'hmac', passcodes: [PASSCODE] } } },
  mydatahelps: { namespaces: { live: { tokens: [TOKEN] } } },
};

/** One request, sent byte for byte the same to both gateways. */
interface Call {
  name: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  quarantinedStatus: number;
}

const prolific = (name: string, body: string, headers: Record<string, string>): Call => ({
  name,
  path: '/prolific/lab',
  body,
  quarantinedStatus: 202,
  headers: {
    'Content-Type': 'application/json',
    'X-Timestamp': T,
    'X-Prolific-Request-Timestamp': T,
    'X-Prolific-Request-Signature': prolificSignature(S, T, body),
    ...headers,
  },
});
/** Prolific's timestamp and signature headers for `signed` at timestamp `ts`. */
const resigned = (ts: string, signed: string): Record<string, string> => ({
  'X-Timestamp': ts,
  'X-Prolific-Request-Timestamp': ts,
  'X-Prolific-Request-Signature': prolificSignature(S, ts, signed),
});
const T2 = String(Number(T) + 100);
const T3 = String(Number(T) + 200);
const actigraph = (name: string, event: string, body: string, delivery?: string): Call => ({
  name,
  path: '/actigraph/hmac',
  body,
  quarantinedStatus: 200,
  headers: {
    'Content-Type': 'application/json; charset=utf-8',
    'X-ActiGraph-Event': event,
    'X-ActiGraph-Signature': actigraphSignature(PASSCODE, body),
    ...(delivery && { 'X-ActiGraph-Delivery': delivery }),
  },
});
const labvanced = (
  route: keyof typeof routes,
  form: boolean,
  change: Record<string, unknown> = {},
): Call => {
  const data = { ...routes[route].body, ...change };
  return {
    name: `labvanced ${route}${form ? ' (form)' : ''}`,
    path: `/labvanced/ns/${route}`,
    quarantinedStatus: 200,
    headers: {
      Origin: ORIGIN,
      'Content-Type': form
        ? 'application/x-www-form-urlencoded; charset=UTF-8'
        : 'application/json',
    },
    body: form ? qs.stringify(data, { arrayFormat: 'indices' }) : JSON.stringify(data),
  };
};
const upload =
  '{"status":"completed","firstEpochUTC":"2018-03-08T00:20:00.0000000","uploadId":"362288","studyId":"8","subjectId":"2358"}';
const survey = (id: string) =>
  JSON.stringify({
    eventType: 'SurveySubmitted',
    projectID: 'p-1',
    participantIdentifier: 'PT-1',
    surveyResultID: id,
    surveyName: 'PHQ-9',
  });

const calls: Call[] = [
  {
    name: 'sensorlogger',
    path: '/sensorlogger/locked',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ studyId: 's1', uploadId: 'u1', secretCode: CODE }),
    quarantinedStatus: 422,
  },
  {
    name: 'sensorlogger, another upload',
    path: '/sensorlogger/locked',
    headers: {},
    body: JSON.stringify({ studyId: 's1', uploadId: 'u2', secretCode: CODE }),
    quarantinedStatus: 422,
  },
  // The two submissions of the reported bug: each has its own X-Event-ID, and must keep it.
  prolific('prolific with X-Event-ID', B1, { 'X-Event-ID': 'evt-republish-a' }),
  prolific('prolific, another X-Event-ID', B3, { 'X-Event-ID': 'evt-republish-b' }),
  // Without X-Event-ID the id comes from the signed timestamp and the raw bytes.
  // why another timestamp: the same signed request under another id, in any spacing, is a replay
  // (test/replay-reencoded.test.ts), not delivered.
  prolific(
    'prolific without X-Event-ID',
    B1.replace('{', '{ '),
    resigned(T2, B1.replace('{', '{ ')),
  ),
  prolific('prolific without X-Event-ID, other bytes', B1.replace('APPROVED', 'RETURNED'), {}),
  {
    ...prolific('prolific signed in json.dumps form', B2, { 'X-Event-ID': 'evt-republish-c' }),
    headers: {
      'Content-Type': 'application/json',
      // the compact body under a signature of its json.dumps form (B1), at a third timestamp
      ...resigned(T3, B1),
      'X-Event-ID': 'evt-republish-c',
    },
  },
  labvanced('recordTrial', false),
  labvanced('recordTrial', true, { trialNr: 4 }),
  labvanced('finishExpSession', true),
  labvanced('recordStartTask', false),
  actigraph('actigraph upload with delivery id', 'upload', upload, 'd-republish-1'),
  actigraph(
    'actigraph upload without delivery id',
    'upload',
    upload.replace('completed', 'started'),
  ),
  {
    name: 'mydatahelps survey',
    path: `/mydatahelps/live/${TOKEN}`,
    headers: { 'Content-Type': 'application/json' },
    body: survey('sr-1'),
    quarantinedStatus: 422,
  },
  {
    name: 'mydatahelps another survey',
    path: `/mydatahelps/live/${TOKEN}`,
    headers: { 'Content-Type': 'application/json' },
    body: survey('sr-2'),
    quarantinedStatus: 422,
  },
];

function send(t: TestGateway, c: Call) {
  let r = request(t.gateway.app!).post(c.path);
  for (const [k, v] of Object.entries(c.headers)) r = r.set(k, v);
  return r.send(c.body);
}

async function run(args: string[]): Promise<{ code: number; err: string }> {
  const error = console.error;
  let err = '';
  console.error = (...a: unknown[]) => {
    err += `${a.join(' ')}\n`;
  };
  try {
    return { code: await quarantine.run(args), err };
  } finally {
    console.error = error;
  }
}

describe('quarantine republish gives what the live path gives', () => {
  let live: TestGateway;
  let kept: TestGateway;
  let republishConfig: string;
  const sinks = (dir: string) => [
    { name: 'rec', module: recordingSink, options: { file: join(dir, 'deliveries.jsonl') } },
  ];

  beforeEach(async () => {
    // why: no workers, so every published event stays in the sink's queue to be read right after the reply.
    const roles = { api: true, worker: false };
    live = await startGateway((dir) => ({ platforms, sinks: sinks(dir) }), { roles });
    // A gateway whose parse limits no real payload fits: every call is kept in quarantine, raw bytes and all.
    kept = await startGateway(
      (dir) => ({
        platforms,
        sinks: sinks(dir),
        server: { port: 0, host: '127.0.0.1', parseLimits: { maxValues: 1 } },
      }),
      { roles },
    );
    const doc = parse(await readFile(join(kept.dataDir, 'studyhook.yml'), 'utf8')) as {
      server: Record<string, unknown>;
    };
    delete doc.server['parseLimits'];
    republishConfig = join(kept.dataDir, 'republish.yml');
    await writeFile(republishConfig, stringify(doc));
  });
  afterEach(async () => {
    await live.close();
    await kept.close();
  });

  it("republishes every platform's kept request, once the limits take it, under exactly the id the live request got, and never merges two records", async () => {
    for (const c of calls) {
      const a = await send(live, c);
      assert.ok(a.status >= 200 && a.status < 300, `${c.name}: live ${a.status} ${a.text}`);
      const b = await send(kept, c);
      assert.equal(b.status, c.quarantinedStatus, `${c.name}: quarantined reply ${b.text}`);
    }
    const liveEvents = await queuedEvents(live.prefix, 'rec');
    assert.equal(liveEvents.length, calls.length);
    assert.equal(
      (await queuedEvents(kept.prefix, 'rec')).length,
      0,
      'nothing over the limits was published',
    );

    const result = await run(['republish', '--config', republishConfig]);
    assert.match(result.err, new RegExp(`republished ${calls.length} record\\(s\\); 0 still`));
    const republished = await queuedEvents(kept.prefix, 'rec');
    assert.equal(republished.length, calls.length, 'no two records merged');
    const liveById = new Map(liveEvents.map((e) => [e.id, e]));
    for (const e of republished) {
      const twin = liveById.get(e.id);
      assert.ok(twin, `republished ${e.type} ${e.id} has the id of a live event`);
      for (const field of [
        'type',
        'subject',
        'studyid',
        'participantid',
        'sessionid',
        'bodysha256',
        'signedform',
        'prolifictimestamp',
        'deliveryid',
        'status',
        'data',
      ] as const) {
        assert.deepEqual(e[field], twin[field], `${e.type} ${field}`);
      }
      // A platform's own time is kept; without one, an event is timed when the gateway received it, not when it was republished.
      assert.equal(
        e.time,
        twin.time === twin['receivedat'] ? e['receivedat'] : twin.time,
        `${e.type} time`,
      );
    }
    assert.equal(
      republished.find((e) => e.id === 'evt-republish-c')!['signedform'],
      'json.dumps',
      'what verification found is kept',
    );
  });

  it('keeps what the request held except its secrets, and republishes a Sensor Logger upload without its code', async () => {
    for (const c of [calls[0]!, calls[2]!, calls.find((x) => x.name === 'mydatahelps survey')!])
      await send(kept, c).expect(c.quarantinedStatus);
    const [sl] = await readQuarantine(kept, 'sensorlogger', 'locked');
    assert.equal(sl!.record.reason, 'over-limits');
    assert.ok(!sl!.body!.toString().includes(CODE), 'the Study code is not in the kept bytes');
    assert.deepEqual(JSON.parse(sl!.body!.toString()), {
      studyId: 's1',
      uploadId: 'u1',
      secretCode: '[redacted]',
    });
    const [pr] = await readQuarantine(kept, 'prolific', 'lab');
    assert.equal(pr!.body!.toString(), B1, 'the exact bytes are kept');
    assert.equal(pr!.record.request!.headers['x-prolific-request-signature'], '[redacted]');
    assert.equal(pr!.record.request!.headers['x-event-id'], 'evt-republish-a');
    assert.deepEqual(pr!.record.request!.verified, { signedform: 'raw' });
    const [mdh] = await readQuarantine(kept, 'mydatahelps', 'live');
    assert.equal(mdh!.record.route, ':token');
    assert.deepEqual(mdh!.record.request!.params, {});
    const all = await readFile(
      join(
        kept.dataDir,
        'quarantine',
        'mydatahelps',
        'live',
        `${mdh!.record.receivedat.slice(0, 10)}.jsonl`,
      ),
      'utf8',
    );
    assert.ok(!all.includes(TOKEN), 'the URL token is not kept');

    await run(['republish', '--config', republishConfig]);
    const envelopes = await queuedEnvelopes(kept.prefix, 'rec');
    assert.equal(envelopes.length, 3);
    const sensorlogger = envelopes.find((e) => e.event.platform === 'sensorlogger')!;
    assert.equal(sensorlogger.secrets, undefined, 'a redacted code is not passed on as a secret');
    assert.equal(
      envelopes.find((e) => e.event.platform === 'prolific')!.request.headers[
        'x-prolific-request-signature'
      ],
      '[redacted]',
    );
  });

  it('publishes a kept Schedule Triggered call once even when republish runs again after a crash before it marked the record', async () => {
    const schedule = {
      name: 'schedule',
      path: `/mydatahelps/live/${TOKEN}`,
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        EventType: 'ScheduleTriggered',
        ParticipantIdentifier: 'PT-1',
        ScheduleID: 's-1',
      }),
      quarantinedStatus: 422,
    };
    await send(kept, schedule).expect(422);
    await run(['republish', '--config', republishConfig]);
    await rm(join(kept.dataDir, 'quarantine', 'republished.jsonl'));
    const again = await run(['republish', '--config', republishConfig]);
    assert.match(again.err, /republished 1 record/);
    assert.equal((await queuedEvents(kept.prefix, 'rec')).length, 1);
  });
});
