import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import request from 'supertest';
import { S3_TEST_ENV, startS3Server, type S3Server } from '../scripts/s3-server.js';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { startFakeSensorLogger, type FakeSensorLogger } from './helpers/fake-sensorlogger.js';
import { recordingSink, startGateway, waitFor, type TestGateway } from './helpers/gateway.js';
import { makeZip } from './helpers/make-zip.js';
import { settled } from './helpers/queue-state.js';
import { s3Proxy } from './helpers/s3-proxy.js';

const CODE = 'sl-study-secret-code';
const STORED = 'sensorlogger.recording.stored';

describe('sensorlogger-fetch into an S3 bucket that fails a read after the recording was stored', function () {
  this.timeout(60000);
  let s3: S3Server;
  let dir: string;
  let client: S3Client;
  let api: FakeSensorLogger;
  let t: TestGateway | undefined;

  before(async () => {
    Object.assign(process.env, S3_TEST_ENV);
    dir = await mkdtemp(join(tmpdir(), 'studyhook-sl-s3-'));
    s3 = await startS3Server({ dir: join(dir, 's3') });
    client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true });
    api = await startFakeSensorLogger(CODE);
    api.files.set('study-1/u-zip', {
      data: makeZip([{ name: 'Metadata.csv', data: 'version,device\n1,phone\n' }]),
      contentType: 'application/octet-stream',
      fileName: 'Walk.zip',
    });
  });
  after(async () => {
    await t?.close();
    await api.close();
    client.destroy();
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps only the file its stored event refers to when the first attempt failed after storing it', async () => {
    // why three: the SDK tries a request three times; the first delivery attempt then fails on its
    // first ranged read (the zip magic check), after the download was stored, and the next one passes.
    let refused = 0;
    const proxy = await s3Proxy(s3.endpoint, (req) =>
      req.method === 'GET' && req.headers.range !== undefined && ++refused <= 3
        ? { status: 503, code: 'SlowDown' }
        : undefined,
    );
    const prefix = 'sl-fetch/';
    try {
      let out = '';
      t = await startGateway((d) => {
        out = join(d, 'stored.jsonl');
        return {
          blobs: {
            type: 's3',
            bucket: s3.bucket,
            endpoint: proxy.endpoint,
            region: 'us-east-1',
            prefix,
            forcePathStyle: true,
          },
          platforms: { sensorlogger: { namespaces: { pilot: {} }, client: { baseUrl: api.url } } },
          sinks: [
            {
              name: 'fetch',
              use: 'sensorlogger-fetch',
              attempts: 4,
              backoff: { type: 'fixed', delayMs: 50 },
            },
            {
              name: 'rec',
              module: recordingSink,
              options: { file: out },
              filter: { types: [STORED] },
            },
          ],
        };
      });
      await request(t.gateway.app!)
        .post('/sensorlogger/pilot')
        .send({ studyId: 'study-1', uploadId: 'u-zip', secretCode: CODE })
        .expect(200);
      await waitFor('the stored event', () => readDeliveries(out).length > 0);
      await settled(t, 'fetch');
      assert.ok(refused > 3, 'the first attempt was refused');
      assert.equal(api.requests.filter((r) => r.path === '/api/study/file/v1').length, 2);
      const file = (readDeliveries(out)[0]!.event['data'] as { file: { uri: string } }).file;
      const listed = await client.send(
        new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }),
      );
      assert.deepEqual(
        (listed.Contents ?? []).map((o) => `s3://${s3.bucket}/${o.Key!}`),
        [file.uri],
        'the first attempt left no copy behind',
      );
    } finally {
      await t?.close();
      t = undefined;
      await proxy.close();
    }
  });
});
