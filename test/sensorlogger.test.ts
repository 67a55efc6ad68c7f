import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import request from 'supertest';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { recordingSink, startGateway, waitFor, type TestGateway } from './helpers/gateway.js';
import { queueState, settled } from './helpers/queue-state.js';
import { queuedEvents, readQuarantine } from './helpers/quarantine.js';

const ADMIN_TOKEN = 'test-admin-token-0123456789';

describe('Sensor Logger webhook through the real pipeline', () => {
  let t: TestGateway;
  let out: string;
  const body = {
    studyId: 'study-1',
    uploadId: '97b996e6-7ace-489f-ae65-57bcef27ae47',
    secretCode: 'sl-very-secret-code',
  };

  beforeEach(async () => {
    t = await startGateway((dir) => {
      out = join(dir, 'deliveries.jsonl');
      return {
        platforms: {
          sensorlogger: {
            namespaces: { pilot: {}, locked: { secretCodes: ['sl-very-secret-code'] } },
          },
        },
        sinks: [{ name: 'rec', module: recordingSink, options: { file: out } }],
        admin: { token: ADMIN_TOKEN },
      };
    });
  });
  afterEach(async () => {
    await t.close();
  });

  it('answers 200 and delivers one sensorlogger.recording.uploaded event with the secret only in ctx.secrets', async () => {
    const res = await request(t.gateway.app!)
      .post('/sensorlogger/pilot')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify(body));
    assert.equal(res.status, 200);
    assert.equal(res.body.status, 'accepted');
    const [d] = await waitFor('one delivery', () => {
      const all = readDeliveries(out);
      return all.length === 1 && all;
    });
    assert.equal(d!.event.type, 'sensorlogger.recording.uploaded');
    assert.equal(d!.event['source'], '/sensorlogger/pilot');
    assert.equal(d!.event['subject'], body.uploadId);
    assert.equal(d!.event['studyid'], 'study-1');
    assert.equal(d!.event['specversion'], '1.0');
    assert.deepEqual(d!.event['data'], { studyId: 'study-1', uploadId: body.uploadId });
    assert.deepEqual(d!.secrets, { secretCode: body.secretCode });
    assert.equal(res.body.id, d!.event.id);
  });

  it('parses the body as JSON whatever the Content-Type says, and on the default namespace', async () => {
    await request(t.gateway.app!).post('/sensorlogger').send(body).expect(404); // `default` is not configured here
    const res = await request(t.gateway.app!)
      .post('/sensorlogger/pilot')
      .set('Content-Type', 'text/plain')
      .send(JSON.stringify(body));
    assert.equal(res.status, 200);
  });

  it('delivers a repeated call once, with the same event id', async () => {
    const a = await request(t.gateway.app!).post('/sensorlogger/pilot').send(body).expect(200);
    const b = await request(t.gateway.app!).post('/sensorlogger/pilot').send(body).expect(200);
    assert.equal(a.body.id, b.body.id);
    assert.equal((await queueState(t, 'rec')).jobs, 1, 'the repeat added no job');
    await settled(t, 'rec');
    await request(t.gateway.app!).post('/sensorlogger/pilot').send(body).expect(200);
    assert.equal((await queueState(t, 'rec')).jobs, 1, 'nor does a repeat after the delivery');
    await settled(t, 'rec');
    assert.equal(readDeliveries(out).length, 1);
  });

  it('keeps a call with missing or wrong-typed fields in quarantine and answers 422, never 500', async () => {
    const missing = await request(t.gateway.app!)
      .post('/sensorlogger/pilot')
      .send({ studyId: 's', secretCode: 'sl-very-secret-code' });
    assert.equal(missing.status, 422);
    assert.equal(missing.body.code, 'SH_INVALID_PAYLOAD');
    assert.match(JSON.stringify(missing.body.details), /uploadId/);
    const wrong = await request(t.gateway.app!)
      .post('/sensorlogger/pilot')
      .send({ studyId: 5, uploadId: 'u', secretCode: 'x' });
    assert.equal(wrong.status, 422);
    const kept = (
      await readFile(
        join(
          t.dataDir,
          'quarantine',
          'sensorlogger',
          'pilot',
          `${new Date().toISOString().slice(0, 10)}.jsonl`,
        ),
        'utf8',
      )
    )
      .trim()
      .split('\n');
    assert.equal(kept.length, 2);
    assert.ok(
      !kept.join('').includes('sl-very-secret-code'),
      'secretCode is redacted in quarantine',
    );
    const extra = await request(t.gateway.app!)
      .post('/sensorlogger/pilot')
      .send({ ...body, uploadId: 'u-extra', note: 'kept' })
      .expect(200);
    const delivered = await waitFor('the extra-field event', () =>
      readDeliveries(out).find((d) => d.event.id === extra.body.id),
    );
    assert.equal((delivered.event['data'] as { note: string }).note, 'kept');
  });

  it('keeps a call it cannot read in quarantine with the raw bytes, the code redacted, and answers 422 (Sensor Logger never calls again)', async () => {
    const broken = `{"studyId": "s", "uploadId": "u-cut", "secretCode": "${body.secretCode}", "x": `;
    const res = await request(t.gateway.app!)
      .post('/sensorlogger/pilot')
      .set('Content-Type', 'application/json')
      .send(broken);
    assert.equal(res.status, 422);
    assert.equal(res.body.code, 'SH_INVALID_PAYLOAD');
    const [kept] = await readQuarantine(t, 'sensorlogger', 'pilot');
    assert.equal(kept!.record.reason, 'unreadable');
    assert.equal(kept!.body!.toString(), broken.replace(body.secretCode, '[redacted]'));
    assert.equal(
      kept!.record.bodysha256,
      createHash('sha256').update(broken).digest('hex'),
      'the hash is of the bytes received',
    );
    assert.ok(!t.logs.join('').includes(body.secretCode));
  });

  it('keeps a body nested 4,100 arrays deep in quarantine instead of publishing it, and goes on delivering normal calls', async () => {
    const deep = `{"studyId":"s","uploadId":"u-deep","secretCode":"${body.secretCode}","x":${'['.repeat(4100)}${']'.repeat(4100)}}`;
    const res = await request(t.gateway.app!)
      .post('/sensorlogger/locked')
      .set('Content-Type', 'application/json')
      .send(deep);
    assert.equal(res.status, 422);
    const [kept] = await readQuarantine(t, 'sensorlogger', 'locked');
    assert.equal(kept!.record.reason, 'over-limits');
    assert.match(kept!.record.problems[0]!.message, /deeper than 64/);
    assert.equal(
      kept!.body!.length,
      Buffer.byteLength(deep) - body.secretCode.length + '[redacted]'.length,
    );
    const ids: string[] = [];
    for (let i = 0; i < 5; i++)
      ids.push(
        (
          await request(t.gateway.app!)
            .post('/sensorlogger/locked')
            .send({ ...body, uploadId: `after-${i}` })
            .expect(200)
        ).body.id,
      );
    const queued = await queuedEvents(t.prefix, 'rec');
    assert.deepEqual(
      queued.map((e) => e.id).sort(),
      ids.sort(),
      'the five normal calls, and nothing of the deep one',
    );
  });

  it('answers 401 and keeps nothing when a namespace lists codes and the body is not an object with a matching string code', async () => {
    const bodies = [
      'null',
      '[]',
      '"sl-very-secret-code"',
      '{"studyId": ',
      '{}',
      JSON.stringify({ ...body, secretCode: ['sl-very-secret-code'] }),
      JSON.stringify({
        studyId: 's',
        uploadId: 'u',
        ['__proto__']: { secretCode: 'sl-very-secret-code' },
      }),
      '{"__proto__": {"secretCode": "sl-very-secret-code"}}',
    ];
    for (const b of bodies) {
      const res = await request(t.gateway.app!)
        .post('/sensorlogger/locked')
        .set('Content-Type', 'application/json')
        .send(b);
      assert.equal(res.status, 401, b);
    }
    assert.equal(existsSync(join(t.dataDir, 'quarantine')), false, 'nothing is kept');
    assert.deepEqual(await queuedEvents(t.prefix, 'rec'), []);
  });

  it('answers 401 when the namespace lists Study codes and the call carries another', async () => {
    await request(t.gateway.app!)
      .post('/sensorlogger/locked')
      .send({ ...body, secretCode: 'guess' })
      .expect(401);
    await request(t.gateway.app!).post('/sensorlogger/locked').send(body).expect(200);
    await request(t.gateway.app!).post('/sensorlogger/elsewhere').send(body).expect(404);
  });

  it('never writes the secretCode to the logs, the archive or the raw request', async () => {
    await request(t.gateway.app!)
      .post('/sensorlogger/pilot')
      .set('Authorization', 'Bearer also-secret-token')
      .send(body)
      .expect(200);
    await request(t.gateway.app!)
      .post('/sensorlogger/locked')
      .send({ ...body, secretCode: 'wrong-secret-guess' })
      .expect(401);
    await waitFor('delivery', () => readDeliveries(out).length === 1);
    const archiveFile = join(
      t.dataDir,
      'events',
      'sensorlogger',
      'pilot',
      `${new Date().toISOString().slice(0, 10)}.jsonl`,
    );
    const archive = await waitFor('the archive line', () =>
      readFile(archiveFile, 'utf8').catch(() => ''),
    );
    const logs = t.logs.join('');
    assert.ok(logs.includes('"status":200'), 'the request was logged');
    for (const secret of [body.secretCode, 'also-secret-token', 'wrong-secret-guess']) {
      assert.ok(!logs.includes(secret), `logs leak ${secret}`);
      assert.ok(!archive.includes(secret), `archive leaks ${secret}`);
    }
  });

  it('answers ops routes: healthz, readyz, and Prometheus metrics only with the admin token', async () => {
    await request(t.gateway.app!).get('/healthz').expect(200);
    const ready = await request(t.gateway.app!).get('/readyz').expect(200);
    assert.equal(ready.body.redis, true);
    await request(t.gateway.app!).post('/sensorlogger/pilot').send(body).expect(200);
    await request(t.gateway.app!).get('/metrics').expect(401);
    await request(t.gateway.app!)
      .get('/metrics')
      .set('Authorization', 'Bearer wrong-token-wrong-token')
      .expect(401);
    const metrics = await request(t.gateway.app!)
      .get('/metrics')
      .set('Authorization', `Bearer ${ADMIN_TOKEN}`)
      .expect(200);
    assert.match(
      metrics.text,
      /studyhook_http_requests_total\{platform="sensorlogger",route="\/",status="200"\} 1/,
    );
    assert.match(metrics.text, /studyhook_queue_jobs\{sink="rec",state="/);
    assert.match(metrics.text, /studyhook_publish_duration_seconds_count 1/);
  });

  it("sends an API's security headers, an X-Request-Id and a JSON content type on platform replies and their errors; ops routes keep helmet's defaults", async () => {
    const ops = await request(t.gateway.app!).get('/healthz').expect(200);
    const ok = await request(t.gateway.app!)
      .post('/sensorlogger/pilot')
      .set('X-Request-Id', 'lab-req-42')
      .send(body)
      .expect(200);
    const refused = await request(t.gateway.app!)
      .post('/sensorlogger/locked')
      .send({ ...body, secretCode: 'guess' })
      .expect(401);
    const unknown = await request(t.gateway.app!).post('/nosuchplatform/x').send(body).expect(404);
    const api = {
      'content-security-policy': "default-src 'none';frame-ancestors 'none'",
      'cache-control': 'no-store',
      'x-frame-options': 'DENY',
      'x-content-type-options': 'nosniff',
      'strict-transport-security': 'max-age=31536000; includeSubDomains',
      'cross-origin-resource-policy': 'same-origin',
    };
    for (const res of [ok, refused]) {
      for (const [name, value] of Object.entries(api)) assert.equal(res.headers[name], value, name);
      for (const name of [
        'referrer-policy',
        'cross-origin-opener-policy',
        'origin-agent-cluster',
        'x-dns-prefetch-control',
        'x-download-options',
        'x-permitted-cross-domain-policies',
        'x-xss-protection',
      ])
        assert.equal(res.headers[name], undefined, name);
    }
    // why: an unknown platform goes to the express app, whose helmet defaults also suit the HTML dashboard.
    for (const res of [ops, unknown]) {
      assert.equal(res.headers['x-frame-options'], 'SAMEORIGIN');
      assert.equal(res.headers['referrer-policy'], 'no-referrer');
    }
    assert.equal(ok.headers['x-request-id'], 'lab-req-42');
    assert.match(String(refused.headers['x-request-id']), /^[0-9a-f-]{36}$/);
    for (const res of [ok, refused, unknown])
      assert.equal(res.headers['content-type'], 'application/json; charset=utf-8');
    assert.equal(Number(ok.headers['content-length']), Buffer.byteLength(ok.text));
    assert.equal(refused.body.code, 'SH_UNAUTHORIZED');
    assert.equal(unknown.body.code, 'SH_UNKNOWN_PLATFORM');
    await request(t.gateway.app!)
      .post('//sensorlogger//pilot')
      .send({ ...body, uploadId: 'u-slashes' })
      .expect(200); // empty segments are skipped, as before
  });
});
