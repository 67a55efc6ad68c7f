import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import request from 'supertest';
import { createRateLimiter } from '../src/http/rate-limit.js';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { recordingSink, startGateway, type TestGateway } from './helpers/gateway.js';
import { queueState, settled } from './helpers/queue-state.js';

const SECRET = 'abuse-secret-code-51d2e0';
const ADMIN = 'abuse-admin-token-9a8b7c6d5e';

function rawGet(port: number, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path: '/healthz', headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}

describe('abuse: nothing forged gets in, limits hold', () => {
  let t: TestGateway;
  let out: string;
  let port: number;

  beforeEach(async () => {
    t = await startGateway((dir) => {
      out = join(dir, 'deliveries.jsonl');
      return {
        server: {
          port: 0,
          host: '127.0.0.1',
          bodyLimitBytes: 2048,
          maxHeaderBytes: 2048,
          headersTimeoutMs: 1000,
          requestTimeoutMs: 2000,
        },
        platforms: { sensorlogger: { namespaces: { study: { secretCodes: [SECRET] } } } },
        sinks: [{ name: 'rec', module: recordingSink, options: { file: out } }],
        admin: { token: ADMIN },
      };
    });
    port = await t.gateway.listen(0, '127.0.0.1');
  });
  afterEach(async () => {
    await t.close();
  });

  it('answers 401 to a wrong Sensor Logger code and stores nothing: no event, no quarantine', async () => {
    await request(t.gateway.app!)
      .post('/sensorlogger/study')
      .send({ studyId: 's', uploadId: 'forged', secretCode: 'guessed-code' })
      .expect(401);
    await request(t.gateway.app!)
      .post('/sensorlogger/study')
      .send({ studyId: 's', uploadId: 'ok', secretCode: SECRET })
      .expect(200);
    assert.equal(
      (await queueState(t, 'rec')).jobs,
      1,
      'only the call with the right code has a job',
    );
    await settled(t, 'rec');
    assert.deepEqual(
      readDeliveries(out).map((d) => (d.event['data'] as { uploadId: string }).uploadId),
      ['ok'],
    );
    assert.equal(existsSync(join(t.dataDir, 'quarantine')), false);
  });

  it('answers 413 to a body over the route limit (64 KiB for Sensor Logger)', async () => {
    const res = await request(t.gateway.app!)
      .post('/sensorlogger/study')
      .set('Content-Type', 'application/json')
      .send(JSON.stringify({ studyId: 's', uploadId: 'x'.repeat(100 * 1024), secretCode: SECRET }));
    assert.equal(res.status, 413);
    assert.equal(res.body.code, 'SH_BODY_TOO_LARGE');
  });

  it('answers 431 to headers over server.maxHeaderBytes', async () => {
    assert.equal(await rawGet(port, { 'x-padding': 'a'.repeat(4000) }), 431);
    assert.equal(await rawGet(port, {}), 200);
  });

  it('cuts a slow-loris connection that never finishes its headers', async function () {
    this.timeout(10000);
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write('POST /sensorlogger/study HTTP/1.1\r\nHost: x\r\n');
    // why: a header line every 200 ms keeps the connection busy; only the headers timeout ends it.
    const drip = setInterval(() => socket.write('X-Slow: 1\r\n'), 200);
    const reply = await new Promise<string>((resolve) => {
      let got = '';
      socket.on('data', (c) => {
        got += String(c);
      });
      socket.on('close', () => resolve(got));
    });
    clearInterval(drip);
    assert.match(reply, /^HTTP\/1\.1 408/);
  });

  it('keeps admin surfaces behind the token: 401 without or with a wrong one', async () => {
    await request(t.gateway.app!).get('/metrics').expect(401);
    await request(t.gateway.app!).get('/metrics').set('Authorization', 'Bearer nope').expect(401);
    await request(t.gateway.app!)
      .get('/metrics')
      .set('Authorization', `Bearer ${ADMIN}`)
      .expect(200);
  });

  it('never writes the secret code or the admin token to the logs', async () => {
    await request(t.gateway.app!)
      .post('/sensorlogger/study')
      .send({ studyId: 's', uploadId: 'a', secretCode: SECRET })
      .expect(200);
    await request(t.gateway.app!)
      .post('/sensorlogger/study')
      .send({ studyId: 's', uploadId: 'b', secretCode: 'wrong-one-here' })
      .expect(401);
    await request(t.gateway.app!)
      .get('/metrics')
      .set('Authorization', `Bearer ${ADMIN}`)
      .expect(200);
    const logs = t.logs.join('');
    assert.ok(logs.length > 0);
    for (const s of [SECRET, 'wrong-one-here', ADMIN])
      assert.ok(!logs.includes(s), `${s} leaked into the logs`);
  });
});

describe('admin surfaces without a token', () => {
  it('answers 404 on /metrics when no admin token is configured', async () => {
    const t = await startGateway({});
    try {
      const res = await request(t.gateway.app!)
        .get('/metrics')
        .set('Authorization', 'Bearer anything-at-all-here');
      assert.equal(res.status, 404);
    } finally {
      await t.close();
    }
  });
});

describe('rate limit token bucket', () => {
  it('answers SH_RATE_LIMITED with Retry-After once a client IP spends its burst, and refills over time', () => {
    let now = 0;
    const take = createRateLimiter({ enabled: true, perSecond: 2, burst: 3 }, () => now);
    for (let i = 0; i < 3; i++) take('1.2.3.4');
    assert.throws(
      () => take('1.2.3.4'),
      (err: Error & { code?: string; statusCode?: number; headers?: Record<string, string> }) =>
        err.code === 'SH_RATE_LIMITED' &&
        err.statusCode === 429 &&
        err.headers?.['Retry-After'] === '1',
    );
    take('5.6.7.8'); // another client is not affected
    now = 600;
    take('1.2.3.4');
  });
});
