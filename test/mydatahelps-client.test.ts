import assert from 'node:assert/strict';
import { generateKeyPairSync, verify, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import request from 'supertest';
import mydatahelps from '../adapters/mydatahelps/index.js';
import type { MyDataHelpsClient } from '../adapters/mydatahelps/client.js';
import { fixtures, startGateway, waitFor } from './helpers/gateway.js';

const ACCOUNT = 'studyhook.ServiceAccount';

interface FakeMdh {
  url: string;
  tokenRequests: number;
  revoked: Set<string>;
  apiRequests: string[];
  problems: string[];
  server: Server;
}

function readAll(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let s = '';
    req.on('data', (c) => {
      s += c;
    });
    req.on('end', () => resolve(s));
  });
}

// A fake MyDataHelps: the token endpoint checks the assertion like the real one would (RS256 with
// the service account's public key, iss/sub/aud/exp/jti), the API checks the bearer token.
async function startFakeMdh(publicKey: KeyObject, answers: unknown[][]): Promise<FakeMdh> {
  const fake: FakeMdh = {
    url: '',
    tokenRequests: 0,
    revoked: new Set(),
    apiRequests: [],
    problems: [],
    server: undefined as unknown as Server,
  };
  fake.server = createServer(async (req, res) => {
    const reply = (status: number, body: unknown) => {
      res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.method === 'POST' && req.url === '/identityserver/connect/token') {
      fake.tokenRequests += 1;
      const form = new URLSearchParams(await readAll(req));
      const [head = '', claims = '', sig = ''] = (form.get('client_assertion') ?? '').split('.');
      const payload = JSON.parse(Buffer.from(claims, 'base64url').toString()) as Record<
        string,
        unknown
      >;
      const checks: Record<string, boolean> = {
        signature: verify(
          'RSA-SHA256',
          Buffer.from(`${head}.${claims}`),
          publicKey,
          Buffer.from(sig, 'base64url'),
        ),
        alg: JSON.parse(Buffer.from(head, 'base64url').toString()).alg === 'RS256',
        iss: payload['iss'] === ACCOUNT && payload['sub'] === ACCOUNT,
        aud: payload['aud'] === `${fake.url}/identityserver/connect/token`,
        exp: typeof payload['exp'] === 'number' && payload['exp'] > Date.now() / 1000,
        jti: typeof payload['jti'] === 'string',
        form:
          form.get('scope') === 'api' &&
          form.get('grant_type') === 'client_credentials' &&
          form.get('client_assertion_type') ===
            'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      };
      const failed = Object.keys(checks).filter((k) => !checks[k]);
      if (failed.length > 0) {
        fake.problems.push(...failed);
        reply(400, { error: 'invalid_client' });
        return;
      }
      reply(200, {
        access_token: `token-${fake.tokenRequests}`,
        expires_in: 300,
        token_type: 'Bearer',
      });
      return;
    }
    fake.apiRequests.push(req.url ?? '');
    if (
      !(req.headers.authorization ?? '').startsWith('Bearer token-') ||
      fake.revoked.has(req.headers.authorization ?? '') ||
      req.headers.accept !== 'application/json'
    ) {
      reply(401, {});
      return;
    }
    const url = new URL(req.url ?? '', fake.url);
    if (url.pathname !== '/api/v1/administration/projects/proj-1/surveyanswers') {
      reply(404, {});
      return;
    }
    const page = Number(url.searchParams.get('pageID') ?? 0);
    reply(200, {
      surveyAnswers: answers[page] ?? [],
      nextPageID: page + 1 < answers.length ? String(page + 1) : null,
    });
  });
  await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
  fake.url = `http://127.0.0.1:${(fake.server.address() as { port: number }).port}`;
  return fake;
}

describe('MyDataHelps API client (ctx.clients.mydatahelps)', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  let fake: FakeMdh;
  let client: MyDataHelpsClient;
  const answer = (id: string, result: string) => ({
    id,
    surveyResultID: result,
    stepIdentifier: 'q1',
    resultIdentifier: 'q1',
    answers: ['5'],
  });

  beforeEach(async () => {
    fake = await startFakeMdh(publicKey, [
      [answer('a1', 'r-1'), answer('x', 'r-other')],
      [answer('a2', 'r-1')],
    ]);
    client = mydatahelps.createClient!({
      config: { baseUrl: fake.url, serviceAccountName: ACCOUNT, privateKey: pem },
      namespaces: {},
    }) as MyDataHelpsClient;
  });
  afterEach(async () => {
    await new Promise((r) => fake.server.close(r));
  });

  it('exchanges an RS256-signed assertion for a token and reuses it while it is valid', async () => {
    const [a, b] = await Promise.all([client.accessToken(), client.accessToken()]);
    assert.deepEqual(fake.problems, []);
    assert.equal(a, 'token-1');
    assert.equal(b, 'token-1');
    assert.equal(await client.accessToken(), 'token-1');
    assert.equal(fake.tokenRequests, 1);
  });

  it("fetches every page of a survey result's answers and keeps only that result's", async () => {
    const got = await client.surveyAnswers('proj-1', 'r-1');
    assert.deepEqual(
      got.map((a) => a.id),
      ['a1', 'a2'],
    );
    assert.equal(fake.apiRequests.length, 2);
    assert.match(fake.apiRequests[0]!, /surveyResultID=r-1/);
    assert.equal(fake.tokenRequests, 1);
  });

  it('gets a fresh token once when the API refuses the cached one', async () => {
    await client.accessToken();
    fake.revoked.add('Bearer token-1');
    assert.equal((await client.surveyAnswers('proj-1', 'r-1')).length, 2);
    assert.equal(fake.tokenRequests, 2);
    assert.equal(await client.accessToken(), 'token-2');
  });

  it('fails for good when the service account is refused or not configured', async () => {
    const { privateKey: other } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const wrong = mydatahelps.createClient!({
      config: {
        baseUrl: fake.url,
        serviceAccountName: ACCOUNT,
        privateKey: other.export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
      namespaces: {},
    }) as MyDataHelpsClient;
    await assert.rejects(
      wrong.accessToken(),
      (err: Error) => err.name === 'PermanentError' && /400/.test(err.message),
    );
    assert.deepEqual(fake.problems, ['signature']);
    const bare = mydatahelps.createClient!({ config: {}, namespaces: {} }) as MyDataHelpsClient;
    await assert.rejects(
      bare.surveyAnswers('proj-1', 'r-1'),
      (err: Error) => err.name === 'PermanentError' && /serviceAccountName/.test(err.message),
    );
    assert.throws(() =>
      mydatahelps.createClient!({ config: { privateKey: 'not a key' }, namespaces: {} }),
    );
    assert.throws(
      () => mydatahelps.createClient!({ config: { baseUrl: 5 }, namespaces: {} }),
      /baseUrl/,
    );
    assert.throws(
      () =>
        mydatahelps.createClient!({
          config: { baseUrl: 'http://designer.mydatahelps.example' },
          namespaces: {},
        }),
      /baseUrl must be an https/,
    );
  });

  it('is offered to sinks as ctx.clients.mydatahelps, configured under platforms.mydatahelps.client', async () => {
    let out = '';
    const t = await startGateway((dir) => {
      out = join(dir, 'answers.jsonl');
      return {
        platforms: {
          mydatahelps: {
            namespaces: { pilot: { open: true } },
            client: { baseUrl: fake.url, serviceAccountName: ACCOUNT, privateKey: pem },
          },
        },
        sinks: [
          {
            name: 'answers',
            module: join(fixtures, 'sinks', 'mydatahelps-answers-sink.ts'),
            options: { file: out },
          },
        ],
      };
    });
    try {
      await request(t.gateway.app!)
        .post('/mydatahelps/pilot')
        .send({ EventType: 'SurveySubmitted', ProjectID: 'proj-1', SurveyResultID: 'r-1' })
        .expect(200);
      const line = await waitFor('the answers', () => readFile(out, 'utf8').catch(() => ''));
      assert.deepEqual(
        (JSON.parse(line) as { answers: { id: string }[] }).answers.map((a) => a.id),
        ['a1', 'a2'],
      );
    } finally {
      await t.close();
    }
  });
});
