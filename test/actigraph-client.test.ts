import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import request from 'supertest';
import { ActiGraphApiError, createActiGraphClient } from '../adapters/actigraph/client.js';
import { fixtures, startGateway, waitFor } from './helpers/gateway.js';

interface Hit {
  method: string;
  path: string;
  auth: string | undefined;
  body: string;
}
type Handler = (hit: Hit, res: ServerResponse) => void;

/** A fake CentrePoint (auth + V3 API) on 127.0.0.1, answering with `handler` and recording every hit. */
async function fakeCentrePoint(
  handler: Handler,
): Promise<{ server: Server; url: string; hits: Hit[] }> {
  const hits: Hit[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', () => {
      const hit = {
        method: req.method ?? '',
        path: req.url ?? '',
        auth: req.headers.authorization,
        body,
      };
      hits.push(hit);
      handler(hit, res);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res
    .writeHead(status, { 'content-type': 'application/json', ...headers })
    .end(JSON.stringify(body));
}

const UPLOAD = {
  id: 362288,
  studyId: 8,
  subjectId: 2358,
  activityMonitorSerial: 'TAS1D48140206',
  uploadFiles: [],
};

/** A well-behaved API: tokens numbered by issue order, upload details for any upload. */
function api(opts: { expiresIn?: number; throttle?: number } = {}): Handler {
  let issued = 0;
  let throttled = 0;
  return (hit, res) => {
    if (hit.path === '/connect/token')
      return json(res, 200, {
        access_token: `tok-${++issued}`,
        expires_in: opts.expiresIn ?? 3600,
        token_type: 'Bearer',
      });
    if (throttled < (opts.throttle ?? 0)) {
      throttled++;
      return json(res, 429, { message: 'slow down' }, { 'retry-after': '1' });
    }
    if (hit.path.startsWith('/centrepoint/v3/Studies/8/Subjects/2358/Uploads/'))
      return json(res, 200, UPLOAD);
    if (hit.path === '/dataretrieval/v3/EpochRequests')
      return json(res, 201, { id: 'track-1', status: 'pending' });
    return json(res, 404, {});
  };
}

describe('ActiGraph CentrePoint API client against a local fake API', () => {
  let fake: Awaited<ReturnType<typeof fakeCentrePoint>> | undefined;
  afterEach(async () => {
    if (fake) {
      fake.server.close();
      await once(fake.server, 'close');
      fake = undefined;
    }
  });

  const clientFor = (url: string, extra: Record<string, unknown> = {}) =>
    createActiGraphClient({
      baseUrl: url,
      tokenUrl: `${url}/connect/token`,
      clientId: 'cid',
      clientSecret: 'csecret',
      ...extra,
    });

  it('gets a client-credentials token once and reuses it until it expires', async () => {
    fake = await fakeCentrePoint(api());
    const client = clientFor(fake.url);
    const ref = { studyId: '8', subjectId: '2358', uploadId: '362288' };
    assert.deepEqual(await client.getUpload(ref), UPLOAD);
    await Promise.all([client.getUpload(ref), client.getUpload({ ...ref, uploadId: 362289 })]);
    const tokenHits = fake.hits.filter((h) => h.path === '/connect/token');
    assert.equal(tokenHits.length, 1);
    const form = new URLSearchParams(tokenHits[0]!.body);
    assert.equal(form.get('grant_type'), 'client_credentials');
    assert.equal(form.get('client_id'), 'cid');
    assert.equal(form.get('client_secret'), 'csecret');
    assert.equal(form.get('scope'), 'CentrePoint Analytics DataRetrieval DataAccess');
    assert.ok(
      fake.hits.filter((h) => h.path !== '/connect/token').every((h) => h.auth === 'Bearer tok-1'),
    );
    assert.equal(fake.hits[1]!.path, '/centrepoint/v3/Studies/8/Subjects/2358/Uploads/362288');
  });

  it('fetches a new token when the cached one is about to expire', async () => {
    fake = await fakeCentrePoint(api({ expiresIn: 30 }));
    const client = clientFor(fake.url);
    assert.equal(await client.token(), 'tok-1');
    assert.equal(await client.token(), 'tok-2');
  });

  it('waits for Retry-After on 429 and then succeeds', async () => {
    fake = await fakeCentrePoint(api({ throttle: 1 }));
    const client = clientFor(fake.url);
    const started = Date.now();
    const res = await client.requestEpochData({
      studyId: '8',
      subjectId: '2358',
      activityMonitorSerial: 'TAS1',
      beginTimestampUtc: '2018-03-08T00:20:00Z',
      endTimestampUtc: '2018-03-08T00:34:00Z',
    });
    assert.equal(res['id'], 'track-1');
    assert.ok(Date.now() - started >= 900, 'the client waited the Retry-After second');
    const posts = fake.hits.filter((h) => h.path === '/dataretrieval/v3/EpochRequests');
    assert.equal(posts.length, 2);
    assert.deepEqual(JSON.parse(posts[1]!.body), {
      fileFormat: 'csv',
      summaryLengthSeconds: 60,
      includePartialEpochs: false,
      studyId: 8,
      subjectId: 2358,
      activityMonitorSerial: 'TAS1',
      beginTimestampUtc: '2018-03-08T00:20:00Z',
      endTimestampUtc: '2018-03-08T00:34:00Z',
    });
  });

  it('gives up with a 429 ActiGraphApiError after maxRetries', async () => {
    fake = await fakeCentrePoint(api({ throttle: 10 }));
    const client = clientFor(fake.url, { maxRetries: 1, maxRetryWaitSeconds: 0 });
    await assert.rejects(
      client.getUpload({ studyId: 8, subjectId: 2358, uploadId: 1 }),
      (err: unknown) => err instanceof ActiGraphApiError && err.status === 429,
    );
    assert.equal(fake.hits.filter((h) => h.path !== '/connect/token').length, 2);
  });

  it('renews a token the API refuses with 401, once', async () => {
    let refused = false;
    const base = api();
    fake = await fakeCentrePoint((hit, res) => {
      if (hit.path !== '/connect/token' && !refused) {
        refused = true;
        return json(res, 401, {});
      }
      return base(hit, res);
    });
    const client = clientFor(fake.url);
    await client.getUpload({ studyId: 8, subjectId: 2358, uploadId: 1 });
    assert.deepEqual(
      fake.hits.map((h) => h.auth ?? h.path),
      ['/connect/token', 'Bearer tok-1', '/connect/token', 'Bearer tok-2'],
    );
  });

  it('refuses a plain-http API or token URL off loopback (they carry the client secret and token)', () => {
    for (const key of ['baseUrl', 'tokenUrl'])
      assert.throws(
        () => createActiGraphClient({ [key]: 'http://centrepoint.example.org/' }),
        new RegExp(`${key} must be an https`),
      );
  });

  it('refuses a client config with unknown keys', () => {
    assert.throws(
      () => createActiGraphClient({ baseUrl: 'http://x', clientSecretz: 'typo' }),
      /clientSecretz/,
    );
  });

  it('is offered to sinks as ctx.clients.actigraph, configured under platforms.actigraph.client', async () => {
    fake = await fakeCentrePoint(api());
    const url = fake.url;
    let out = '';
    const t = await startGateway((dir) => {
      out = join(dir, 'uploads.jsonl');
      return {
        platforms: {
          actigraph: {
            namespaces: { open: { auth: 'none', allowIps: ['127.0.0.1', '::1'] } },
            client: {
              baseUrl: url,
              tokenUrl: `${url}/connect/token`,
              clientId: 'cid',
              clientSecret: 'csecret',
            },
          },
        },
        sinks: [
          {
            name: 'details',
            module: join(fixtures, 'sinks', 'actigraph-upload-sink.ts'),
            options: { file: out },
          },
        ],
      };
    });
    try {
      await request(t.gateway.app!)
        .post('/actigraph/open')
        .set('X-ActiGraph-Event', 'upload')
        .set('Content-Type', 'application/json')
        .send(
          JSON.stringify({
            status: 'completed',
            uploadId: '362288',
            studyId: '8',
            subjectId: '2358',
          }),
        )
        .expect(200);
      const line = await waitFor('the upload details', () => {
        try {
          return readFileSync(out, 'utf8');
        } catch {
          return '';
        }
      });
      assert.deepEqual(JSON.parse(line).upload, UPLOAD);
      assert.ok(!t.logs.join('').includes('csecret'), 'the client secret is never logged');
    } finally {
      await t.close();
    }
  });
});
