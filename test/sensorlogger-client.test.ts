import assert from 'node:assert/strict';
import {
  createSensorLoggerClient,
  type SensorLoggerClient,
} from '../adapters/sensorlogger/client.js';
import type { StudyhookEvent } from '../src/generated/event.js';
import { PermanentError } from '../src/sinks/types.js';
import { startFakeSensorLogger, type FakeSensorLogger } from './helpers/fake-sensorlogger.js';

const CODE = 'sl-study-secret-code';

const stored = (namespace = 'pilot'): StudyhookEvent => ({
  specversion: '1.0',
  id: 'e-1',
  source: `/sensorlogger/${namespace}`,
  type: 'sensorlogger.recording.stored',
  time: '2026-11-23T10:00:00Z',
  datacontenttype: 'application/json',
  platform: 'sensorlogger',
  namespace,
  receivedat: '2026-11-23T10:00:00Z',
  bodysha256: '0'.repeat(64),
  subject: 'u-1',
  studyid: 's-1',
  data: { studyId: 's-1', uploadId: 'u-1' },
});

describe('ctx.clients.sensorlogger: respond and settings', () => {
  let api: FakeSensorLogger;
  let client: SensorLoggerClient;
  beforeEach(async () => {
    api = await startFakeSensorLogger(CODE);
    client = createSensorLoggerClient({ baseUrl: api.url }, {});
  });
  afterEach(async () => {
    await api.close();
  });

  it('POSTs a Markdown report with the raw code and Content-Type text/markdown, as the docs say', async () => {
    await client.respond(stored(), '# Thanks\n\nAll sensors recorded.', CODE);
    const [r] = api.requests;
    assert.equal(r!.method, 'POST');
    assert.equal(r!.path, '/api/study/webhook/v1');
    assert.deepEqual(r!.query, { studyId: 's-1', uploadId: 'u-1' });
    assert.equal(r!.headers.authorization, CODE);
    assert.equal(r!.headers['content-type'], 'text/markdown');
    assert.equal(r!.body.toString('utf8'), '# Thanks\n\nAll sensors recorded.');
  });

  it('sends PDF bytes unchanged as application/pdf', async () => {
    const pdf = Buffer.concat([
      Buffer.from('%PDF-1.4\n'),
      Buffer.from([0, 1, 2, 250, 251, 252]),
      Buffer.from('\n%%EOF\n'),
    ]);
    await client.respond(stored(), pdf, CODE);
    const [r] = api.requests;
    assert.equal(r!.headers['content-type'], 'application/pdf');
    assert.deepEqual(r!.body, pdf);
  });

  it('tries PUT once when POST is answered 405, and follows respondMethod: PUT first when configured', async () => {
    api.respondStatus['POST'] = 405;
    await client.respond(stored(), '# r', CODE);
    assert.deepEqual(
      api.requests.map((r) => r.method),
      ['POST', 'PUT'],
    );
    api.requests.length = 0;
    await createSensorLoggerClient({ baseUrl: api.url, respondMethod: 'PUT' }, {}).respond(
      stored(),
      '# r',
      CODE,
    );
    assert.deepEqual(
      api.requests.map((r) => r.method),
      ['PUT'],
    );
  });

  it('throws a PermanentError on 401 or 404 after the fallback, and a retryable error on 503', async () => {
    await assert.rejects(
      client.respond(stored(), '# r', 'wrong-code'),
      (err) => err instanceof PermanentError && /HTTP 401/.test((err as Error).message),
    );
    api.respondStatus['POST'] = 404;
    api.respondStatus['PUT'] = 404;
    await assert.rejects(
      client.respond(stored(), '# r', CODE),
      (err) => err instanceof PermanentError,
    );
    api.respondStatus['POST'] = 503;
    await assert.rejects(
      client.respond(stored(), '# r', CODE),
      (err) => !(err instanceof PermanentError) && /HTTP 503/.test((err as Error).message),
    );
    await assert.rejects(
      client.download('s-1', 'missing', CODE),
      (err) => err instanceof PermanentError && /download: HTTP 404/.test((err as Error).message),
    );
  });

  it("uses the namespace's one configured Study code when no code is passed, and refuses to guess otherwise", async () => {
    const withCodes = createSensorLoggerClient(
      { baseUrl: api.url },
      { pilot: { secretCodes: [CODE] }, two: { secretCodes: ['a', 'b'] } },
    );
    await withCodes.respond(stored('pilot'), '# r');
    assert.equal(api.requests[0]!.headers.authorization, CODE);
    await assert.rejects(withCodes.respond(stored('two'), '# r'), PermanentError);
    await assert.rejects(client.respond(stored(), '# r', 'has space'), PermanentError);
    assert.equal(api.requests.length, 1);
  });

  it('defaults to https://sensorlogger.app and refuses a base URL with a path or another scheme at start', () => {
    assert.equal(createSensorLoggerClient({}, {}).baseUrl, 'https://sensorlogger.app');
    assert.equal(
      createSensorLoggerClient({ baseUrl: 'http://127.0.0.1:9/' }, {}).baseUrl,
      'http://127.0.0.1:9',
    );
    for (const baseUrl of ['file:///etc/passwd', 'https://sensorlogger.app/api?x=1']) {
      assert.throws(
        () => createSensorLoggerClient({ baseUrl }, {}),
        /platforms\/sensorlogger\/client\/baseUrl/,
      );
    }
    assert.throws(() => createSensorLoggerClient({ respondMethod: 'PATCH' }, {}), /respondMethod/);
  });
});
