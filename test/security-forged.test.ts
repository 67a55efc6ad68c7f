import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { Queue } from 'bullmq';
import request from 'supertest';
import { JSON_DUMPS_MAX_BYTES } from '../adapters/prolific/verify.js';
import { pythonJsonDumps } from '../adapters/prolific/python-json.js';
import { createFailureLimiter } from '../src/http/rate-limit.js';
import { sinkQueueName } from '../src/queue/redis.js';
import { REDIS_URL, startGateway, type TestGateway } from './helpers/gateway.js';
import { actigraphSignature, prolificSignature } from './helpers/sign.js';

const PROLIFIC = 'forged-test-prolific-secret';
const PASSCODE = 'forged-test-actigraph-passcode';
const CODE = 'forged-test-sensorlogger-code';
const TOKEN = 'forged-test-mydatahelps-token-0123';
const T = '1700000000';

/** A Prolific body of about `bytes` bytes in compact JSON (so its json.dumps form differs from it). */
function prolificBody(bytes: number, id: string): string {
  const o: Record<string, unknown> = {
    event_type: 'study.status.change',
    resource_id: id,
    status: 'ACTIVE',
    metadata: {},
  };
  const meta = o['metadata'] as Record<string, string>;
  for (let i = 0; JSON.stringify(o).length < bytes; i++) meta[`k${i}`] = 'v'.repeat(40);
  return JSON.stringify(o);
}

describe('forged requests cost little: the json.dumps fallback and the per-client failure limit', () => {
  let t: TestGateway;
  let queue: Queue;
  const app = () => t.gateway.app!;
  const jobs = async () =>
    Object.values(
      await queue.getJobCounts('waiting', 'completed', 'failed', 'active', 'delayed'),
    ).reduce((a, b) => a + b, 0);

  /** Valid requests for each verified platform, from client `ip` (the test trusts loopback as its proxy), to namespace `ns`. */
  const send = {
    prolific: (ip: string, sign: boolean, ns = 'lab') => {
      const body = prolificBody(300, `r-${ip}-${Math.random()}`);
      return request(app())
        .post(`/prolific/${ns}`)
        .set('X-Forwarded-For', ip)
        .set('Content-Type', 'application/json')
        .set('X-Prolific-Request-Timestamp', T)
        .set(
          'X-Prolific-Request-Signature',
          prolificSignature(sign ? PROLIFIC : 'guessed', T, body),
        )
        .send(body);
    },
    actigraph: (ip: string, sign: boolean, ns = 'lab') => {
      const body = JSON.stringify({
        status: 'completed',
        uploadId: `u-${Math.random()}`,
        studyId: '8',
        subjectId: '1',
      });
      return request(app())
        .post(`/actigraph/${ns}`)
        .set('X-Forwarded-For', ip)
        .set('Content-Type', 'application/json')
        .set('X-ActiGraph-Event', 'upload')
        .set('X-ActiGraph-Signature', actigraphSignature(sign ? PASSCODE : 'guessed', body))
        .send(body);
    },
    sensorlogger: (ip: string, sign: boolean, ns = 'lab') =>
      request(app())
        .post(`/sensorlogger/${ns}`)
        .set('X-Forwarded-For', ip)
        .send({
          studyId: 's',
          uploadId: `u-${Math.random()}`,
          secretCode: sign ? CODE : 'guessed-code',
        }),
    mydatahelps: (ip: string, sign: boolean, ns = 'lab') =>
      request(app())
        .post(`/mydatahelps/${ns}/${sign ? TOKEN : 'guessed-token-guessed-token'}`)
        .set('X-Forwarded-For', ip)
        .send({ EventType: 'ScheduleTriggered', ParticipantIdentifier: 'p' }),
  };

  beforeEach(async () => {
    const namespaces = (s: object) => ({ lab: s, other: s });
    t = await startGateway(
      {
        // why: loopback is the trusted "proxy", so X-Forwarded-For gives each test client its own address.
        server: {
          port: 0,
          host: '127.0.0.1',
          trustProxy: ['loopback'],
          verifyFailureLimit: { burst: 3, perSecond: 0.001 },
          headersTimeoutMs: 2000,
          requestTimeoutMs: 5000,
        },
        platforms: {
          prolific: { namespaces: namespaces({ secrets: [PROLIFIC] }) },
          actigraph: { namespaces: namespaces({ auth: 'hmac', passcodes: [PASSCODE] }) },
          sensorlogger: { namespaces: namespaces({ secretCodes: [CODE] }) },
          mydatahelps: { namespaces: namespaces({ tokens: [TOKEN] }) },
        },
        sinks: [{ name: 'noop', use: 'filesystem' }],
      },
      { roles: { api: true, worker: false } },
    );
    queue = new Queue(sinkQueueName('noop'), {
      connection: { url: REDIS_URL } as never,
      prefix: t.prefix,
    });
  });
  afterEach(async () => {
    await queue.close();
    await t.close();
  });

  it('checks a Prolific signature over json.dumps only for bodies of a plausible size (up to 16 KiB)', async () => {
    for (const [bytes, expected] of [
      [2000, 200],
      [JSON_DUMPS_MAX_BYTES + 1000, 401],
    ] as const) {
      const body = prolificBody(bytes, `r-${bytes}`);
      const res = await request(app())
        .post('/prolific/lab')
        .set('X-Forwarded-For', `10.0.0.${bytes % 200}`)
        .set('Content-Type', 'application/json')
        .set('X-Prolific-Request-Timestamp', T)
        .set('X-Prolific-Request-Signature', prolificSignature(PROLIFIC, T, pythonJsonDumps(body)))
        .send(body);
      assert.equal(res.status, expected, `${bytes} bytes signed in json.dumps form: ${res.text}`);
    }
    // The raw form verifies at any size up to the route's limit.
    const big = prolificBody(100 * 1024, 'r-big');
    await request(app())
      .post('/prolific/lab')
      .set('Content-Type', 'application/json')
      .set('X-Prolific-Request-Timestamp', T)
      .set('X-Prolific-Request-Signature', prolificSignature(PROLIFIC, T, big))
      .send(big)
      .expect(200);
  });

  const retrying = ['prolific', 'actigraph'];
  for (const platform of (Object.keys(send) as (keyof typeof send)[]).filter(
    (p) => !retrying.includes(p),
  )) {
    it(`never refuses ${platform} calls with 429 (the platform never retries, so a valid call behind a failing one would be lost)`, async () => {
      const shared = '203.0.113.67';
      for (let i = 0; i < 6; i++)
        assert.equal((await send[platform](shared, false)).status, 401, `failure ${i + 1}`);
      const before = await jobs();
      assert.ok(
        [200, 202].includes((await send[platform](shared, true)).status),
        'a valid call from the same address',
      );
      assert.equal(await jobs(), before + 1);
    });
  }

  for (const platform of (Object.keys(send) as (keyof typeof send)[]).filter((p) =>
    retrying.includes(p),
  )) {
    it(`answers 429 to a client that keeps failing ${platform} verification, and not to valid senders elsewhere`, async () => {
      const attacker = '203.0.113.66';
      for (let i = 0; i < 3; i++)
        assert.equal((await send[platform](attacker, false)).status, 401, `failure ${i + 1}`);
      const limited = await send[platform](attacker, false);
      assert.equal(limited.status, 429);
      assert.equal(limited.body.code, 'SH_RATE_LIMITED');
      assert.ok(Number(limited.headers['retry-after']) >= 1);
      // The limited client is refused even with valid credentials, on that namespace only.
      assert.equal((await send[platform](attacker, true)).status, 429);
      assert.ok(
        [200, 202].includes((await send[platform](attacker, true, 'other')).status),
        'another namespace is counted apart',
      );
      // A valid sender at another address is not affected at all.
      const before = await jobs();
      for (let i = 0; i < 5; i++)
        assert.ok(
          [200, 202].includes((await send[platform]('198.51.100.7', true)).status),
          `valid request ${i + 1}`,
        );
      assert.equal(await jobs(), before + 5);
    });
  }

  it("answers the limited client before reading its body, closing the connection of a large one and keeping a small one's", async () => {
    const ip = '203.0.113.99';
    for (let i = 0; i < 3; i++) await send.prolific(ip, false).expect(401);
    // Headers announce 200 kB, one byte follows, then nothing: a server that read the body first would wait for the timeout (408).
    const port = await t.gateway.listen(0, '127.0.0.1');
    const socket = connect(port, '127.0.0.1');
    socket.on('error', () => undefined);
    socket.write(
      `POST /prolific/lab HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: ${ip}\r\nContent-Type: application/json\r\nX-Prolific-Request-Timestamp: ${T}\r\nX-Prolific-Request-Signature: AAAA\r\nContent-Length: 200000\r\n\r\n{`,
    );
    const reply = await new Promise<string>((resolve) => {
      let got = '';
      socket.on('data', (c) => {
        got += String(c);
      });
      socket.on('close', () => resolve(got));
    });
    assert.match(reply, /^HTTP\/1\.1 429 /);
    assert.match(reply, /\r\nConnection: close\r\n/i);
    // A small body: answered 429 too, and the connection stays open for the next request.
    const small = connect(port, '127.0.0.1');
    small.on('error', () => undefined);
    const head = (n: number) =>
      `POST /prolific/lab HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: ${ip}\r\nContent-Type: application/json\r\nX-Prolific-Request-Timestamp: ${T}\r\nX-Prolific-Request-Signature: AAAA\r\nContent-Length: ${n}\r\n\r\n`;
    small.write(`${head(2)}{}${head(2)}{}`);
    const both = await new Promise<string>((resolve) => {
      let got = '';
      small.on('data', (c) => {
        got += String(c);
        if ((got.match(/HTTP\/1\.1 429 /g) ?? []).length === 2) resolve(got);
      });
    });
    small.destroy();
    assert.doesNotMatch(both, /\r\nConnection: close\r\n/i);
  });
});

describe('failure limiter (token bucket of failed verifications)', () => {
  it('takes a token per failure only, limits at zero, refills over time, and is off when disabled', () => {
    let now = 0;
    const f = createFailureLimiter({ enabled: true, perSecond: 0.5, burst: 2 }, () => now);
    for (let i = 0; i < 10; i++) f.check('a'); // checks alone take nothing
    f.failed('a');
    f.check('a');
    f.failed('a');
    assert.throws(
      () => f.check('a'),
      (err: Error & { code?: string; headers?: Record<string, string> }) =>
        err.code === 'SH_RATE_LIMITED' &&
        err.headers?.['Retry-After'] === '2' &&
        err.headers?.['Connection'] === undefined,
    );
    assert.throws(
      () => f.check('a', true),
      (err: Error & { headers?: Record<string, string> }) =>
        err.headers?.['Connection'] === 'close',
    );
    f.check('b');
    now = 2000;
    f.check('a');
    f.failed('a');
    assert.throws(() => f.check('a'));
    f.passed('a'); // one verified request gives every token back
    f.failed('a');
    f.check('a');
    const off = createFailureLimiter({ enabled: false, perSecond: 1, burst: 1 });
    for (let i = 0; i < 5; i++) {
      off.failed('a');
      off.check('a');
    }
  });
});
