import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { S3_TEST_ENV, startS3Server, type S3Server } from '../scripts/s3-server.js';
import { recordingSink, startGateway, type TestGateway } from './helpers/gateway.js';
import { labvancedUpload, multipartBody, rawPost, requestHead } from './helpers/multipart.js';
import { s3Proxy } from './helpers/s3-proxy.js';

const MB = 1024 * 1024;
const B = 'unansweredBoundary';

describe('an upload into an S3 store that stops answering', function () {
  this.timeout(60000);
  let s3: S3Server;
  let dir: string;
  let client: S3Client;
  let t: TestGateway | undefined;

  before(async () => {
    Object.assign(process.env, S3_TEST_ENV);
    dir = await mkdtemp(join(tmpdir(), 'studyhook-s3-unanswered-'));
    s3 = await startS3Server({ dir: join(dir, 's3') });
    client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true });
  });
  after(async () => {
    await t?.close();
    client.destroy();
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('is answered 503 once the part S3 never answers has timed out, and leaves nothing in the bucket', async () => {
    // why part 2 of a 12 MiB file: the whole body has arrived by then, so the gateway's stall
    // timer is over, and only the store's own timeout can end the request.
    const proxy = await s3Proxy(s3.endpoint, (req) =>
      req.method === 'PUT' && /[?&]partNumber=2&/.test(req.url ?? '') ? 'hang' : undefined,
    );
    const prefix = `unanswered/${randomUUID()}/`;
    try {
      t = await startGateway(
        (d) => ({
          archive: false,
          blobs: {
            type: 's3',
            bucket: s3.bucket,
            endpoint: proxy.endpoint,
            region: 'us-east-1',
            prefix,
            forcePathStyle: true,
            queueSize: 2,
            idleTimeoutMs: 300,
          },
          platforms: { labvanced: { namespaces: { x: {} } } },
          sinks: [{ name: 'rec', module: recordingSink, options: { file: `${d}/out.jsonl` } }],
        }),
        { roles: { api: true, worker: false } },
      );
      const port = await t.gateway.listen(0, '127.0.0.1');
      const body = multipartBody(B, labvancedUpload('s', 'big.webm', randomBytes(12 * MB)));
      const began = Date.now();
      const reply = await rawPost(
        port,
        requestHead('/labvanced/x/file_upload', B, body.length, randomUUID()),
        body,
      );
      assert.equal(reply?.status, 503, JSON.stringify(reply));
      assert.ok(Date.now() - began < 30000, `answered after ${Date.now() - began} ms`);
      const objects = await client.send(
        new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }),
      );
      const uploads = await client.send(
        new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: prefix }),
      );
      assert.deepEqual([objects.Contents ?? [], uploads.Uploads ?? []], [[], []]);
    } finally {
      await t?.close();
      t = undefined;
      await proxy.close();
    }
  });
});
