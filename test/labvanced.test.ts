import assert from 'node:assert/strict';
import { text } from 'node:stream/consumers';
import { readFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import qs from 'qs';
import request from 'supertest';
import { safeFileName } from '../adapters/labvanced/values.js';
import { routes } from './fixtures/labvanced/routes.js';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { recordingSink, startGateway, waitFor, type TestGateway } from './helpers/gateway.js';
import { queueState, settled } from './helpers/queue-state.js';
import { queuedEvents, readQuarantine } from './helpers/quarantine.js';

const ORIGIN = 'https://www.labvanced.com';
/** jQuery's `$.ajax` default encoding of a plain object: urlencoded, nested keys in brackets. */
const jquery = (body: unknown): string =>
  qs.stringify(body, { arrayFormat: 'brackets', encodeValuesOnly: false });

describe('Labvanced external data storage through the real pipeline', () => {
  let t: TestGateway;
  let out: string;

  beforeEach(async () => {
    t = await startGateway((dir) => {
      out = join(dir, 'deliveries.jsonl');
      return {
        platforms: {
          labvanced: {
            namespaces: { json: {}, form: {}, small: { maxUploadBytes: 1000 }, '*': {} },
          },
        },
        sinks: [{ name: 'rec', module: recordingSink, options: { file: out } }],
      };
    });
  });
  afterEach(async () => {
    await t.close();
  });

  const post = (path: string) => request(t.gateway.app!).post(path).set('Origin', ORIGIN);

  it('turns every data route into one event, the same from a JSON body and a jQuery urlencoded body', async () => {
    for (const [route, f] of Object.entries(routes)) {
      const a = await post(`/labvanced/json/${route}`)
        .set('Content-Type', 'application/json')
        .send(JSON.stringify(f.body));
      const b = await post(`/labvanced/form/${route}`)
        .set('Content-Type', 'application/x-www-form-urlencoded; charset=UTF-8')
        .send(jquery(f.body));
      for (const res of [a, b]) {
        assert.equal(res.status, 200, `${route}: ${res.text}`);
        assert.deepEqual(res.body, { success: true });
        assert.equal(res.headers['access-control-allow-origin'], ORIGIN);
      }
    }
    const n = Object.keys(routes).length * 2;
    const all = await waitFor(`${n} deliveries`, () => {
      const d = readDeliveries(out);
      return d.length === n && d;
    });
    for (const [route, f] of Object.entries(routes)) {
      const [j, u] = ['json', 'form'].map(
        (ns) =>
          all.find((d) => d.event['source'] === `/labvanced/${ns}` && d.event.type === f.type)
            ?.event,
      );
      assert.ok(j && u, `${route} delivered in both encodings`);
      assert.deepEqual(u['data'], j['data'], `${route}: same data either way`);
      assert.equal(j['sessionid'], '123456');
      assert.equal(j['studyid'], '4242');
      assert.equal(j['participantid'], f.participant);
      if ('time' in f) assert.equal(j['time'], f.time);
    }
    const trial = all.find((d) => d.event.type === 'labvanced.trial.recorded')!.event['data'] as {
      recData: { data: Record<string, unknown> };
    };
    assert.deepEqual(
      trial.recData.data,
      { response: 'left', rt: 512, correct: true, code: '007', ratio: 0.25 },
      'the number rule keeps "007" a string',
    );
  });

  it('acknowledges a retried /recordTrial and delivers it once, but keeps a second record of the same trial with other data', async () => {
    const body = routes.recordTrial.body;
    await post('/labvanced/json/recordTrial').send(body).expect(200, { success: true });
    await post('/labvanced/json/recordTrial')
      .type('form')
      .send(jquery(body))
      .expect(200, { success: true });
    await post('/labvanced/json/recordTrial')
      .send({ ...body, recData: { data: { response: 'right', rt: 600 }, scope: 'trial' } })
      .expect(200);
    assert.equal((await queueState(t, 'rec')).jobs, 2, 'the retry added no job');
    await settled(t, 'rec');
    assert.equal(readDeliveries(out).length, 2);
  });

  it('keeps a "__proto__" field of a trial as data, in either encoding, without it becoming the prototype', async () => {
    const text =
      '{"expSessionNr":77,"recTaskId":1,"trialNr":1,"recData":{"rt":"300","__proto__":{"isPilot":"true"}},"__proto__":{"trialNr":"999"}}';
    await post('/labvanced/json/recordTrial')
      .set('Content-Type', 'application/json')
      .send(text)
      .expect(200, { success: true });
    await post('/labvanced/form/recordTrial')
      .type('form')
      .send(
        'expSessionNr=78&recTaskId=1&trialNr=1&recData[rt]=300&recData[__proto__][isPilot]=true',
      )
      .expect(200, { success: true });
    const found = await waitFor('two deliveries', () => {
      const d = readDeliveries(out);
      return (
        d.length === 2 &&
        [77, 78].map(
          (n) =>
            d.find((x) => (x.event['data'] as { expSessionNr: number }).expSessionNr === n)!.event,
        )
      );
    });
    const [j, u] = [found[0]!, found[1]!];
    const jd = j['data'] as Record<string, unknown> & { recData: Record<string, unknown> };
    assert.deepEqual(Object.keys(jd.recData), ['rt', '__proto__']);
    assert.deepEqual(jd.recData['__proto__'], { isPilot: true });
    assert.equal(j['trialnr'], '1', 'trialNr is read from the body, not from a "__proto__" object');
    const ud = u['data'] as Record<string, unknown> & { recData: Record<string, unknown> };
    assert.deepEqual(
      Object.keys(ud.recData),
      ['rt', '__proto__'],
      'the urlencoded form keeps it too',
    );
    assert.deepEqual(ud.recData['__proto__'], { isPilot: true });
    for (const d of [jd, jd.recData, ud, ud.recData])
      assert.equal(Object.getPrototypeOf(d), Object.prototype);
    assert.equal((jd.recData as { isPilot?: unknown }).isPilot, undefined);
  });

  it("delivers a participant's session and task calls although a forged call with the same session came first, and collapses their retries", async () => {
    const once = [
      'startFirstPlayerSession',
      'setPlayerSessionStartedTime',
      'addMetaInfo',
      'recordStartTask',
      'finishExpSession',
      'errExpSession',
    ] as const;
    for (const route of once) {
      const real = routes[route].body;
      // An unauthenticated caller who guessed the counting session number (and task id) gets in first.
      await post(`/labvanced/json/${route}`)
        .send({ expSessionNr: real.expSessionNr, recTaskId: 98765, forged: true })
        .expect(200, { success: true });
      await post(`/labvanced/json/${route}`).send(real).expect(200, { success: true });
      // The player's own retry, in its urlencoded form, is the same request.
      await post(`/labvanced/json/${route}`)
        .type('form')
        .send(jquery(real))
        .expect(200, { success: true });
    }
    const queued = await queuedEvents(t.prefix, 'rec');
    for (const route of once) {
      const events = queued.filter((e) => e.type === routes[route].type);
      assert.equal(
        events.length,
        2,
        `${route}: the forged call and the real one, the retry collapsed`,
      );
      assert.ok(
        events.some((e) => (e['data'] as Record<string, unknown>)['forged'] === undefined),
        `${route}: the participant's data is delivered`,
      );
    }
  });

  it("delivers a re-recorded /file_upload with the same name and new bytes, and a forged upload sent first does not take the real one's place", async () => {
    const upload = (bytes: string) =>
      post('/labvanced/json/file_upload')
        .field('expSessionNr', '5150')
        .field('newFileName', 'rec_b1_t2.webm')
        .attach('myFile', Buffer.from(bytes), 'rec_b1_t2.webm');
    const forged = await upload('forged bytes').expect(200);
    const real = await upload('first recording').expect(200);
    const retry = await upload('first recording').expect(200);
    const again = await upload('second recording').expect(200);
    assert.notEqual(real.body.file_guid, forged.body.file_guid);
    assert.equal(
      retry.body.file_guid,
      real.body.file_guid,
      'a retry of the same bytes is the same upload',
    );
    assert.notEqual(again.body.file_guid, real.body.file_guid);
    const events = (await queuedEvents(t.prefix, 'rec')).filter(
      (e) => e.type === 'labvanced.file.uploaded',
    );
    assert.deepEqual(
      events.map((e) => e.id).sort(),
      [forged.body.file_guid, real.body.file_guid, again.body.file_guid].sort(),
    );
    for (const [id, bytes] of [
      [real.body.file_guid, 'first recording'],
      [again.body.file_guid, 'second recording'],
    ]) {
      const file = (events.find((e) => e.id === id)!['data'] as { file: { id: string } }).file;
      assert.equal(await text(t.gateway.blobs.open(file.id)), bytes);
    }
  });

  it("accepts the docs' trailNr spelling and answers a stray /startExpPlayer with 200 and no event", async () => {
    const { trialNr, ...rest } = routes.recordTrial.body;
    await post('/labvanced/recordTrial')
      .send({ ...rest, trailNr: trialNr })
      .expect(200, { success: true });
    await post('/labvanced/json/startExpPlayer')
      .send({ expId: 4242, askSubjData: true })
      .expect(200, { success: true });
    const [d] = await waitFor('one delivery', () => {
      const all = readDeliveries(out);
      return all.length === 1 && all;
    });
    assert.equal(d!.event['source'], '/labvanced/default');
    assert.equal(d!.event['trialnr'], '3');
  });

  it('keeps an invalid trial in quarantine and still answers {"success": true} so the player stops retrying', async () => {
    const res = await post('/labvanced/json/recordTrial').send({ expSessionNr: 5, trialNr: 1 });
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, { success: true });
    const dir = join(t.dataDir, 'quarantine', 'labvanced', 'json');
    const kept = await readFile(join(dir, (await readdir(dir))[0]!), 'utf8');
    assert.match(kept, /recData/);
  });

  it('answers a preflight with the CORS headers and refuses another origin with 403 and no CORS headers', async () => {
    const pre = await request(t.gateway.app!)
      .options('/labvanced/json/recordTrial')
      .set('Origin', ORIGIN)
      .set('Access-Control-Request-Method', 'POST')
      .set('Access-Control-Request-Headers', 'content-type');
    assert.equal(pre.status, 204);
    assert.equal(pre.headers['access-control-allow-origin'], ORIGIN);
    assert.match(pre.headers['access-control-allow-methods']!, /POST/);
    assert.match(pre.headers['access-control-allow-methods']!, /OPTIONS/);
    assert.match(pre.headers['access-control-allow-headers']!, /Content-Type/i);
    assert.match(pre.headers['vary']!, /Origin/);
    assert.equal(pre.headers['access-control-allow-credentials'], 'true');
    const bad = await request(t.gateway.app!)
      .post('/labvanced/json/recordTrial')
      .set('Origin', 'https://evil.example')
      .send(routes.recordTrial.body);
    assert.equal(bad.status, 403);
    assert.equal(bad.body.code, 'SH_FORBIDDEN_ORIGIN');
    assert.equal(bad.headers['access-control-allow-origin'], undefined);
    assert.equal((await queueState(t, 'rec')).jobs, 0, 'no job for the refused origin');
  });

  it('keeps a trial it cannot read (broken JSON, a form it would have to reshape) in quarantine, raw, and still answers {"success": true}', async () => {
    const broken = '{"expSessionNr": 5, "recData": {"data": {"rt": 51';
    const reshaped =
      'expSessionNr=5&recTaskId=1&trialNr=2&recData[data][rt][0]=1&recData[data][rt][0]=2';
    for (const [type, body] of [
      ['application/json', broken],
      ['application/x-www-form-urlencoded', reshaped],
    ]) {
      const res = await post('/labvanced/json/recordTrial').set('Content-Type', type!).send(body);
      assert.equal(res.status, 200);
      assert.deepEqual(res.body, { success: true });
      assert.equal(res.headers['access-control-allow-origin'], ORIGIN);
    }
    const kept = await readQuarantine(t, 'labvanced', 'json');
    assert.deepEqual(
      kept.map((k) => k.body!.toString()),
      [broken, reshaped],
      'the exact bytes are kept',
    );
    assert.deepEqual(
      kept.map((k) => k.record.reason),
      ['unreadable', 'unreadable'],
    );
    assert.equal(
      kept[1]!.record.request!.headers['content-type'],
      'application/x-www-form-urlencoded',
    );
  });

  it('puts the CORS headers on error replies: 413 for a file over the namespace limit', async () => {
    const big = await post('/labvanced/small/file_upload')
      .field('expSessionNr', '7')
      .field('newFileName', 'a.webm')
      .attach('myFile', Buffer.alloc(5000, 1), 'a.webm');
    assert.equal(big.status, 413);
    assert.equal(big.headers['access-control-allow-origin'], ORIGIN);
    const blobs = await readdir(join(t.dataDir, 'blobs'), { recursive: true }).catch(
      () => [] as string[],
    );
    assert.deepEqual(
      blobs.filter((f) => /[0-9a-f-]{36}/.test(f)),
      [],
      'nothing half-written is left',
    );
  });

  it('answers 413 to an over-limit upload even when the whole body arrived before the blob store refused it', async () => {
    // why: 100 KB and more reach the server in one go; busboy then never closes, and before the fix no reply came.
    for (const size of [100_000, 400_000]) {
      const res = await post('/labvanced/small/file_upload')
        .timeout(5000)
        .field('expSessionNr', '7')
        .field('newFileName', 'a.webm')
        .attach('myFile', Buffer.alloc(size, 2), 'a.webm');
      assert.equal(res.status, 413, `${size} bytes`);
      assert.equal(res.body.code, 'SH_BLOB_TOO_LARGE');
    }
    const blobs = await readdir(join(t.dataDir, 'blobs'), { recursive: true }).catch(
      () => [] as string[],
    );
    assert.deepEqual(
      blobs.filter((f) => /[0-9a-f-]{36}/.test(f)),
      [],
      'nothing half-written is left',
    );
    assert.equal(readDeliveries(out).length, 0);
  });

  it('streams /file_upload to the blob store and answers {file_guid, file_name} with a safe name', async () => {
    const bytes = Buffer.from('RIFF....WEBM-ish audio bytes');
    const res = await post('/labvanced/json/file_upload')
      .field('expSessionNr', '123456')
      .field('newFileName', '../../etc/passwd')
      .attach('myFile', bytes, '../../etc/passwd');
    assert.equal(res.status, 200, res.text);
    assert.match(
      res.body.file_guid,
      /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/,
    );
    assert.equal(res.body.file_name, 'passwd');
    assert.equal(res.headers['access-control-allow-origin'], ORIGIN);
    const [d] = await waitFor('the upload event', () => {
      const all = readDeliveries(out);
      return all.length === 1 && all;
    });
    assert.equal(d!.event.type, 'labvanced.file.uploaded');
    assert.equal(d!.event.id, res.body.file_guid);
    assert.equal(d!.event['sessionid'], '123456');
    const file = (
      d!.event['data'] as { file: { id: string; name: string; size: number; sha256: string } }
    ).file;
    assert.equal(file.name, 'passwd');
    assert.equal(file.size, bytes.length);
    assert.equal(await text(t.gateway.blobs.open(file.id)), bytes.toString());
  });

  it('keeps a /file_upload without myFile in quarantine and answers 422 with CORS headers', async () => {
    const res = await post('/labvanced/json/file_upload')
      .field('expSessionNr', '9')
      .field('newFileName', 'x.webm');
    assert.equal(res.status, 422);
    assert.equal(res.headers['access-control-allow-origin'], ORIGIN);
    assert.match(
      await readFile(
        join(
          t.dataDir,
          'quarantine',
          'labvanced',
          'json',
          `${new Date().toISOString().slice(0, 10)}.jsonl`,
        ),
        'utf8',
      ),
      /myFile/,
    );
  });

  it('reduces untrusted newFileName values to a safe basename', () => {
    assert.equal(safeFileName('../../etc/passwd', 'f'), 'passwd');
    assert.equal(safeFileName('/etc/shadow', 'f'), 'shadow');
    assert.equal(safeFileName('C:\\Users\\x\\rec_b1_t2.webm', 'f'), 'rec_b1_t2.webm');
    assert.equal(safeFileName('', 'upload-7'), 'upload-7');
    assert.equal(safeFileName('..', 'upload-7'), 'upload-7');
    assert.equal(safeFileName('.hidden', 'f'), 'hidden');
    assert.equal(safeFileName('a\u0000b\nc<>:"|?*.wav', 'f'), 'a_b_c_______.wav');
    assert.equal(safeFileName('stimme_äöü_声音.webm', 'f'), 'stimme_äöü_声音.webm');
    assert.equal(safeFileName('evil\u202egpj.exe', 'f'), 'evil_gpj.exe');
    const long = safeFileName(`${'ü'.repeat(500)}.webm`, 'f');
    assert.ok(Buffer.byteLength(long) <= 200);
    assert.ok(long.endsWith('.webm'));
  });
});
