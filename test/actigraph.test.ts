import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import request from 'supertest';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { recordingSink, startGateway, waitFor, type TestGateway } from './helpers/gateway.js';
import { queueState, settled } from './helpers/queue-state.js';
import { queuedEvents, readQuarantine } from './helpers/quarantine.js';
import { actigraphSignature } from './helpers/sign.js';

// The recorded real upload body (actigraph.md, "Complete example delivery"): 269 bytes, no trailing newline.
const UPLOAD =
  '{"status":"completed","firstEpochUTC":"2018-03-08T00:20:00.0000000","firstEpochSubjectTZ":"2018-03-08T05:50:00.0000000","lastEpochUTC":"2018-03-08T00:34:00.0000000","lastEpochSubjectTZ":"2018-03-08T06:04:00.0000000","uploadId":"362288","studyId":"8","subjectId":"2358"}';
const UPLOAD_SIG = 'pC8kk4JEhC7KO0YU28Pn/qlkPFbw+VzJnaUQylSwBm8=';
const PASSCODE = 'actigraph-test-passcode';
// The vendor's own example (securing_webhooks.md).
const VENDOR_SECRET = 'B3`MlG4sJR.X^-%w=oG_UrNBEpszl?';
const VENDOR_BODY = '{"Test":"Value"}';
const VENDOR_SIG = 'Ri20SCicySZmIf2D4kCY5KWEJrsqI7W8sWXMADj1RaQ=';
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);

const sign = actigraphSignature;

describe('ActiGraph CentrePoint webhook through the real pipeline', () => {
  let t: TestGateway;
  let out: string;
  let n = 0;

  beforeEach(async () => {
    t = await startGateway((dir) => {
      out = join(dir, 'deliveries.jsonl');
      return {
        admin: { token: 'actigraph-test-admin-token' },
        platforms: {
          actigraph: {
            namespaces: {
              hmac: { auth: 'hmac', passcodes: [PASSCODE] },
              vendor: { auth: 'hmac', passcodes: [VENDOR_SECRET] },
              basic: {
                auth: 'basic',
                basic: [{ username: 'centrepoint', password: 'basic-pass-word' }],
              },
              bearer: { auth: 'bearer', tokens: ['bearer-token-value'] },
              open: { auth: 'none', allowIps: ['127.0.0.1', '::1'] },
              faraway: { auth: 'none', allowIps: ['13.82.60.74'] },
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

  /** One CentrePoint delivery on the HMAC namespace, signed unless a signature is given. */
  function deliver(
    event: string,
    body: string | Buffer,
    opts: { ns?: string; delivery?: string; signature?: string; passcode?: string } = {},
  ) {
    return (
      request(t.gateway.app!)
        .post(`/actigraph/${opts.ns ?? 'hmac'}`)
        .set('Content-Type', 'application/json; charset=utf-8')
        .set('User-Agent', 'ActiGraph-Hookshot/1.0')
        .set('X-ActiGraph-Event', event)
        .set('X-ActiGraph-Webhook-id', '14')
        .set(
          'X-ActiGraph-Delivery',
          opts.delivery ?? `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
        )
        .set('X-ActiGraph-Signature', opts.signature ?? sign(opts.passcode ?? PASSCODE, body))
        // superagent would JSON-encode a Buffer under a JSON Content-Type; a string (BOM as U+FEFF) goes out as its UTF-8 bytes.
        .send(typeof body === 'string' ? body : body.toString('utf8'))
    );
  }

  it('accepts the vendor example signature and refuses it when one byte of the body changes', async () => {
    assert.equal(sign(VENDOR_SECRET, VENDOR_BODY), VENDOR_SIG);
    await deliver('upload_test', VENDOR_BODY, { ns: 'vendor', signature: VENDOR_SIG }).expect(200);
    await deliver('upload_test', '{"Test":"Valve"}', {
      ns: 'vendor',
      signature: VENDOR_SIG,
    }).expect(401);
    const d = await waitFor('one delivery', () => readDeliveries(out)[0]);
    assert.equal(d.event.type, 'actigraph.upload_test');
  });

  it('delivers the recorded upload with the documented signature as actigraph.upload.completed with normalised fields', async () => {
    const res = await deliver('upload', UPLOAD, {
      signature: UPLOAD_SIG,
      delivery: '2f609110-0fea-33de-b70e-337c581e9001',
    });
    assert.equal(res.status, 200);
    assert.equal(res.text, '');
    const [d] = await waitFor('one delivery', () => {
      const all = readDeliveries(out);
      return all.length === 1 && all;
    });
    const e = d!.event;
    assert.equal(e.type, 'actigraph.upload.completed');
    assert.equal(e['subject'], '362288');
    assert.equal(e['studyid'], '8');
    assert.equal(e['participantid'], '2358');
    assert.equal(e['status'], 'completed');
    assert.equal(e['epochstart'], '2018-03-08T00:20:00.0000000Z');
    assert.equal(e['epochend'], '2018-03-08T00:34:00.0000000Z');
    assert.equal(e['deliveryid'], '2f609110-0fea-33de-b70e-337c581e9001');
    assert.equal(e['webhookid'], '14');
    assert.equal((e['data'] as { uploadId: string }).uploadId, '362288');
  });

  it('answers 401 and stores nothing for a wrong, missing or legacy sha1= signature', async () => {
    await deliver('upload', UPLOAD, { passcode: 'another-passcode' }).expect(401);
    await request(t.gateway.app!)
      .post('/actigraph/hmac')
      .set('X-ActiGraph-Event', 'upload')
      .set('Content-Type', 'application/json')
      .send(UPLOAD)
      .expect(401);
    await deliver('upload', UPLOAD, { signature: `sha1=${'E2316FED'.repeat(16)}` }).expect(401);
    assert.equal((await queueState(t, 'rec')).jobs, 0, 'no job for any refused call');
  });

  it('verifies a body that starts with a UTF-8 BOM, signed with or without the BOM, and parses it', async () => {
    const withBom = Buffer.concat([BOM, Buffer.from(UPLOAD)]);
    await deliver('upload', withBom, { signature: UPLOAD_SIG }).expect(200);
    await deliver('upload', withBom, { signature: sign(PASSCODE, withBom) }).expect(200);
    await deliver('upload', withBom, { signature: sign('wrong', withBom) }).expect(401);
    const all = await waitFor('two deliveries', () => {
      const a = readDeliveries(out);
      return a.length === 2 && a;
    });
    assert.ok(all.every((d) => d.event['subject'] === '362288'));
  });

  it('checks Basic credentials on a Basic namespace', async () => {
    const post = (auth?: string) => {
      const r = request(t.gateway.app!)
        .post('/actigraph/basic')
        .set('X-ActiGraph-Event', 'upload')
        .set('Content-Type', 'application/json');
      return (auth ? r.set('Authorization', auth) : r).send(UPLOAD);
    };
    await post(`Basic ${Buffer.from('centrepoint:basic-pass-word').toString('base64')}`).expect(
      200,
    );
    await post(`Basic ${Buffer.from('centrepoint:guess').toString('base64')}`).expect(401);
    await post().expect(401);
    await post('Bearer bearer-token-value').expect(401);
  });

  it('checks the Bearer token on an oAuth2 namespace', async () => {
    const post = (auth: string) =>
      request(t.gateway.app!)
        .post('/actigraph/bearer')
        .set('X-ActiGraph-Event', 'upload')
        .set('Content-Type', 'application/json')
        .set('Authorization', auth)
        .send(UPLOAD);
    await post('Bearer bearer-token-value').expect(200);
    await post('Bearer other-token').expect(401);
  });

  it('accepts unauthenticated deliveries only from allow-listed IPs', async () => {
    const post = (ns: string) =>
      request(t.gateway.app!)
        .post(`/actigraph/${ns}`)
        .set('X-ActiGraph-Event', 'upload')
        .set('Content-Type', 'application/json')
        .send(UPLOAD);
    await post('open').expect(200);
    await post('faraway').expect(401);
  });

  it('answers validation with 200 and the echoed X-ActiGraph-Hook-Secret, without credentials and without an event', async () => {
    const code = '1d3ad7a1-91c9-4ffc-8562-5bad545e6a40';
    for (const ns of ['hmac', 'basic', 'bearer', 'open']) {
      const res = await request(t.gateway.app!)
        .post(`/actigraph/${ns}`)
        .set('X-ActiGraph-Webhook-id', '74')
        .set('X-ActiGraph-Event', 'validation')
        .set('X-ActiGraph-Delivery', '38a1d5a7-d3df-b80f-48a1-0535801b687b')
        .set('X-Client-Cert-Used', 'False')
        .set('X-ActiGraph-Hook-Secret', code)
        .send(Buffer.from(JSON.stringify({ WebhookId: '74', ValidationCode: code })));
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-actigraph-hook-secret'], code);
    }
    // Without the header, the code in the body is echoed.
    const fromBody = await request(t.gateway.app!)
      .post('/actigraph/hmac')
      .set('x-actigraph-event', 'Validation')
      .set('Content-Type', 'application/json')
      .send({ WebhookId: '74', ValidationCode: 'code-in-body' });
    assert.equal(fromBody.headers['x-actigraph-hook-secret'], 'code-in-body');
    await request(t.gateway.app!)
      .post('/actigraph/faraway')
      .set('X-ActiGraph-Event', 'validation')
      .set('X-ActiGraph-Hook-Secret', code)
      .send('{}')
      .expect(401);
    const metrics = await request(t.gateway.app!)
      .get('/metrics')
      .set('Authorization', 'Bearer actigraph-test-admin-token')
      .expect(200);
    assert.match(metrics.text, /studyhook_handshakes_total\{platform="actigraph"\} 5/);
    assert.equal((await queueState(t, 'rec')).jobs, 0, 'a handshake publishes nothing');
    assert.ok(!t.logs.join('').includes(code), 'the validation code is never logged');
  });

  it('delivers a repeated X-ActiGraph-Delivery once, whether ids come as strings or integers', async () => {
    const asNumbers = JSON.stringify({
      ...JSON.parse(UPLOAD),
      uploadId: 362288,
      studyId: 8,
      subjectId: 2358,
    });
    const a = await deliver('upload', UPLOAD, { delivery: 'dup-1' }).expect(200);
    const b = await deliver('upload', asNumbers, { delivery: 'dup-1' }).expect(200);
    assert.equal(a.status, b.status);
    assert.equal((await queueState(t, 'rec')).jobs, 1, 'the repeat added no job');
    await settled(t, 'rec');
    await deliver('upload', UPLOAD, { delivery: 'dup-1' }).expect(200);
    assert.equal((await queueState(t, 'rec')).jobs, 1, 'nor does a repeat after the delivery');
    await settled(t, 'rec');
    assert.equal(readDeliveries(out).length, 1);
    // why: another upload: the same signed body under a new delivery id would be a replay (acknowledged, not delivered).
    await deliver('upload', asNumbers.replace('362288', '362289'), { delivery: 'dup-2' }).expect(
      200,
    );
    const second = await waitFor('the integer-id delivery', () => readDeliveries(out)[1]);
    assert.equal(second.event['subject'], '362289');
    assert.equal(second.event['studyid'], '8');
  });

  it('maps each upload status, in any letter case, to its event type', async () => {
    const ids = { uploadId: '123456', subjectId: '987654', studyId: '456789' };
    await deliver('upload', JSON.stringify({ status: 'Started', ...ids })).expect(200);
    await deliver('upload', JSON.stringify({ status: 'completed', ...ids })).expect(200);
    await deliver(
      'upload',
      JSON.stringify({ status: 'ERROR', message: 'bad file', ...ids }),
    ).expect(200);
    const all = await waitFor('three deliveries', () => {
      const a = readDeliveries(out);
      return a.length === 3 && a;
    });
    assert.deepEqual(all.map((d) => d.event.type).sort(), [
      'actigraph.upload.completed',
      'actigraph.upload.error',
      'actigraph.upload.started',
    ]);
  });

  it('keeps a signed delivery it cannot use (failing the upload schema, unreadable, not an object) in quarantine and answers 200, so CentrePoint does not repeat it', async () => {
    const bodies = [
      JSON.stringify({ status: 'started', subjectId: '1' }),
      '{"status": "completed", "uploadId": ',
      '[1, 2]',
    ];
    for (const b of bodies) {
      const res = await deliver(b === '[1, 2]' ? 'raw_processing_complete' : 'upload', b);
      assert.equal(res.status, 200, b);
      assert.equal(res.text, '');
    }
    const kept = await readQuarantine(t, 'actigraph', 'hmac');
    assert.deepEqual(
      kept.map((k) => k.body!.toString()),
      bodies,
    );
    assert.deepEqual(
      kept.map((k) => k.record.reason),
      ['invalid', 'unreadable', 'invalid'],
    );
    assert.equal(kept[0]!.record.request!.headers['x-actigraph-signature'], '[redacted]');
    assert.equal(kept[0]!.record.request!.headers['x-actigraph-event'], 'upload');
    assert.deepEqual(await queuedEvents(t.prefix, 'rec'), []);
  });

  it('keeps nothing from a validation request without a code or a delivery without credentials, and types an event named constructor as unknown', async () => {
    await request(t.gateway.app!)
      .post('/actigraph/hmac')
      .set('X-ActiGraph-Event', 'validation')
      .send('not json at all')
      .expect(400);
    await request(t.gateway.app!)
      .post('/actigraph/hmac')
      .set('X-ActiGraph-Event', 'upload')
      .send('not json at all')
      .expect(401);
    await deliver('validation', '{"ValidationCode": ""}').expect(400);
    assert.equal(existsSync(join(t.dataDir, 'quarantine')), false);
    await deliver('constructor', '{"studyId": 8}').expect(200);
    const [event] = await queuedEvents(t.prefix, 'rec');
    assert.equal(event!.type, 'actigraph.constructor');
  });

  it('maps the other documented events and keeps unknown ones as actigraph.<event>', async () => {
    const raw = {
      study_id: 8,
      subject_id: 2358,
      subject_identifier: 'P-01',
      monitor_serial: 'CPW1',
      min_event_timestamp: '2021-01-01T00:00:00Z',
      max_event_timestamp: '2021-01-02T00:00:00Z',
      status: 'Completed',
      error_message: null,
    };
    await deliver('raw_processing_complete', JSON.stringify(raw)).expect(200);
    await deliver('raw_processing_complete', JSON.stringify({ ...raw, status: 'Error' })).expect(
      200,
    );
    await deliver(
      'data_retrieval_complete',
      JSON.stringify({
        tracking_id: 'a1b2',
        study_id: 8,
        subject_id: 2358,
        request_status: 'Completed',
        files: [],
      }),
    ).expect(200);
    await deliver(
      'daily_statistics_complete',
      JSON.stringify({ id: 77, studyId: 8, subjectId: 2358, date: '2017-11-01T05:00:00+00:00' }),
    ).expect(200);
    await deliver(
      'cp2_daily_statistics_complete',
      JSON.stringify({ dayStatId: 5, studyId: 8, subjectId: 2358, date: '2013-08-07T00:00:00' }),
    ).expect(200);
    await deliver('Sleep_Scoring_Complete', JSON.stringify({ studyId: 8, anything: true })).expect(
      200,
    );
    const all = await waitFor('six deliveries', () => {
      const a = readDeliveries(out);
      return a.length === 6 && a;
    });
    const byType = new Map(all.map((d) => [d.event.type, d.event]));
    assert.deepEqual([...byType.keys()].sort(), [
      'actigraph.cp2_daily_statistics.completed',
      'actigraph.daily_statistics.completed',
      'actigraph.data_retrieval.completed',
      'actigraph.raw_processing.completed',
      'actigraph.raw_processing.error',
      'actigraph.sleep_scoring_complete',
    ]);
    assert.equal(byType.get('actigraph.raw_processing.completed')!['participantid'], '2358');
    assert.equal(
      byType.get('actigraph.raw_processing.completed')!['epochstart'],
      '2021-01-01T00:00:00Z',
    );
    assert.equal(byType.get('actigraph.data_retrieval.completed')!['subject'], 'a1b2');
    assert.deepEqual(byType.get('actigraph.sleep_scoring_complete')!['data'], {
      studyId: 8,
      anything: true,
    });
  });

  it('never keeps the signature or the hook secret in logs, the archive or the raw request', async () => {
    await deliver('upload', UPLOAD, { signature: UPLOAD_SIG }).expect(200);
    const [d] = await waitFor('delivery', () => {
      const a = readDeliveries(out);
      return a.length === 1 && a;
    });
    const archiveFile = join(
      t.dataDir,
      'events',
      'actigraph',
      'hmac',
      `${new Date().toISOString().slice(0, 10)}.jsonl`,
    );
    const archive = await waitFor('the archive line', () =>
      readFile(archiveFile, 'utf8').catch(() => ''),
    );
    assert.ok(!t.logs.join('').includes(UPLOAD_SIG));
    assert.ok(!archive.includes(UPLOAD_SIG));
    assert.ok(!JSON.stringify(d).includes(UPLOAD_SIG));
  });

  it('answers 400 when X-ActiGraph-Event is missing, and keeps nothing', async () => {
    const res = await request(t.gateway.app!)
      .post('/actigraph/hmac')
      .set('X-ActiGraph-Signature', sign(PASSCODE, UPLOAD))
      .set('Content-Type', 'application/json')
      .send(UPLOAD);
    assert.equal(res.status, 400);
    await request(t.gateway.app!)
      .post('/actigraph/hmac')
      .set('X-ActiGraph-Signature', sign(PASSCODE, '['))
      .set('Content-Type', 'application/json')
      .send('[')
      .expect(400);
    assert.equal(existsSync(join(t.dataDir, 'quarantine')), false);
  });
});

describe('client address behind a reverse proxy (server.trustProxy)', () => {
  const post = (t: TestGateway, forwardedFor?: string) => {
    const r = request(t.gateway.app!)
      .post('/actigraph/vendor')
      .set('X-ActiGraph-Event', 'upload')
      .set('Content-Type', 'application/json');
    return (forwardedFor ? r.set('X-Forwarded-For', forwardedFor) : r).send(UPLOAD);
  };
  const platforms = {
    actigraph: { namespaces: { vendor: { auth: 'none', allowIps: ['13.82.60.74'] } } },
  };

  it('takes the address from X-Forwarded-For when the proxy (here loopback) is trusted, as express would', async () => {
    const t = await startGateway({
      server: { trustProxy: ['loopback'] },
      platforms,
      sinks: [{ name: 'rec', module: recordingSink, options: { file: '/dev/null' } }],
    });
    try {
      await post(t, '13.82.60.74').expect(200);
      await post(t, '203.0.113.9').expect(401);
      await post(t).expect(401); // no header: the socket address (loopback) is not on the list
    } finally {
      await t.close();
    }
  });

  it('ignores X-Forwarded-For when no proxy is trusted (the default), so a caller cannot claim an allowed address', async () => {
    const t = await startGateway({
      platforms,
      sinks: [{ name: 'rec', module: recordingSink, options: { file: '/dev/null' } }],
    });
    try {
      await post(t, '13.82.60.74').expect(401);
    } finally {
      await t.close();
    }
  });
});
