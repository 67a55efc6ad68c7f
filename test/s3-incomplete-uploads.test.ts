import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CreateMultipartUploadCommand,
  ListMultipartUploadsCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { stringify } from 'yaml';
import { S3_TEST_ENV, startS3Server, type S3Server } from '../scripts/s3-server.js';
import { openBlobStore } from '../src/blobs/open-blob-store.js';
import { abortIncompleteUploads } from '../src/blobs/s3-incomplete-uploads.js';
import { loadConfig } from '../src/config/load-config.js';
import { createGateway, type Gateway } from '../src/gateway.js';
import { createLogger } from '../src/log/logger.js';
import { recordingSink, REDIS_URL, testPrefix, waitFor } from './helpers/gateway.js';
import {
  labvancedUpload,
  multipartBody,
  RawClient,
  requestHead,
  smallUploadStatus,
} from './helpers/multipart.js';
import { freePort, spawnStudyhook, stop } from './helpers/processes.js';
import { s3Proxy } from './helpers/s3-proxy.js';

const MB = 1024 * 1024;
const DAY = 86_400_000;
const B = 'sweepBoundary';
const PATH = '/labvanced/x/file_upload';
const ownKey = (prefix: string): string => {
  const id = randomUUID();
  return `${prefix}${id.slice(0, 2)}/${id}`;
};

describe('abandoned multipart uploads in the bucket', function () {
  this.timeout(60000);
  let s3: S3Server;
  let dir: string;
  let client: S3Client;

  before(async () => {
    Object.assign(process.env, S3_TEST_ENV);
    dir = await mkdtemp(join(tmpdir(), 'studyhook-s3-sweep-'));
    s3 = await startS3Server({ dir: join(dir, 's3') });
    client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true });
  });
  after(async () => {
    client.destroy();
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  });

  const begin = async (Key: string, began?: Date): Promise<string> => {
    const { UploadId } = await client.send(
      new CreateMultipartUploadCommand({ Bucket: s3.bucket, Key }),
    );
    if (began) await s3.ageUpload(UploadId!, began);
    return UploadId!;
  };
  const uploads = async (Prefix: string): Promise<string[]> =>
    (
      (await client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix }))).Uploads ??
      []
    )
      .map((u) => u.Key!)
      .sort();
  const abortAll = async (Prefix: string): Promise<void> => {
    const found = await client.send(new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix }));
    for (const u of found.Uploads ?? [])
      await client.send(
        new AbortMultipartUploadCommand({ Bucket: s3.bucket, Key: u.Key, UploadId: u.UploadId }),
      );
  };

  it("a gateway killed mid-upload leaves one; the next start aborts it once it is old, and keeps live uploads and others'", async () => {
    const data = await mkdtemp(join(dir, 'gw-'));
    const prefix = `t/${randomUUID()}/`;
    const port = await freePort();
    const config = join(data, 'studyhook.yml');
    await writeFile(
      config,
      stringify({
        dataDir: data,
        archive: false,
        redis: { url: REDIS_URL, prefix: testPrefix('s3sweep') },
        server: { port, host: '127.0.0.1' },
        blobs: {
          type: 's3',
          bucket: s3.bucket,
          endpoint: s3.endpoint,
          region: 'us-east-1',
          prefix,
          forcePathStyle: true,
          queueSize: 1,
        },
        platforms: { labvanced: { namespaces: { x: {} } } },
        sinks: [{ name: 'rec', module: recordingSink, options: { file: join(data, 'out.jsonl') } }],
      }),
    );
    const gw = spawnStudyhook('api', config);
    let again: Gateway | undefined;
    try {
      await waitFor(
        'the API to answer',
        async () => (await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined))?.ok,
        20000,
      );
      const body = multipartBody(
        B,
        labvancedUpload('killed', 'killed.webm', Buffer.alloc(12 * MB, 1)),
      );
      const c = new RawClient(port);
      // why 7 MiB of 12: a multipart upload exists in the bucket once its first 5 MiB part is sent.
      await c.write(
        Buffer.concat([
          Buffer.from(requestHead(PATH, B, body.length, randomUUID())),
          body.subarray(0, 7 * MB),
        ]),
      );
      const [killed] = await waitFor('an incomplete upload', async () => {
        const found = await uploads(prefix);
        return found.length === 1 ? found : undefined;
      });
      await stop(gw.proc, 'SIGKILL');
      c.socket.destroy();
      assert.deepEqual(await uploads(prefix), [killed], 'the killed upload is left in the bucket');
      const listed = await client.send(
        new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: prefix }),
      );
      await s3.ageUpload(listed.Uploads![0]!.UploadId!, new Date(Date.now() - 2 * DAY));

      // Kept: a live upload (of another replica), another program's old upload under the same
      // prefix, and an old upload of this shape under another store's prefix.
      const live = ownKey(prefix);
      await begin(live);
      const foreign = `${prefix}exports/big.bin`;
      await begin(foreign, new Date(Date.now() - 2 * DAY));
      const otherStore = `t/${randomUUID()}/`;
      const elsewhere = ownKey(otherStore);
      await begin(elsewhere, new Date(Date.now() - 2 * DAY));

      // why in this process: the sweep runs (and is awaited) while the gateway starts.
      again = await createGateway({
        config: loadConfig({ path: config, env: {} }),
        roles: { api: true, worker: false },
        logger: createLogger({ level: 'silent' }),
      });
      assert.deepEqual(await uploads(prefix), [foreign, live].sort());
      assert.deepEqual(await uploads(otherStore), [elsewhere]);
      await again.listen(port, '127.0.0.1');
      assert.equal(await smallUploadStatus(port, PATH), 200);
    } finally {
      await stop(gw.proc, 'SIGKILL');
      await again?.close();
      await abortAll('t/');
    }
  });

  it('goes through every page of the listing, and leaves uploads younger than the threshold', async () => {
    const prefix = `p/${randomUUID()}/`;
    const old = [ownKey(prefix), ownKey(prefix), ownKey(prefix)];
    for (const k of old) await begin(k, new Date(Date.now() - 3 * DAY));
    const young = ownKey(prefix);
    await begin(young, new Date(Date.now() - DAY / 2));
    try {
      const aborted = await abortIncompleteUploads(client, {
        bucket: s3.bucket,
        prefix,
        olderThanMs: DAY,
        pageSize: 1,
      });
      assert.deepEqual(aborted.sort(), [...old].sort());
      assert.deepEqual(await uploads(prefix), [young]);
      // Another replica's sweep, or this one again: nothing left to abort, no error.
      assert.deepEqual(
        await abortIncompleteUploads(client, { bucket: s3.bucket, prefix, olderThanMs: DAY }),
        [],
      );
    } finally {
      await abortAll(prefix);
    }
  });

  /** A warn-level logger whose lines land in `lines`. */
  const captured = (): { lines: string[]; logger: ReturnType<typeof createLogger> } => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'warn',
      destination: new Writable({
        write(chunk, _e, done) {
          lines.push(String(chunk));
          done();
        },
      }),
    });
    return { lines, logger };
  };
  /** The store's settings with `endpoint` and `prefix`. */
  const settingsAt = (endpoint: string, prefix: string) =>
    ({
      type: 's3',
      bucket: s3.bucket,
      endpoint,
      region: 'us-east-1',
      prefix,
      forcePathStyle: true,
      partSizeBytes: 5 * MB,
      queueSize: 1,
      abortIncompleteAfterMs: DAY,
    }) as const;

  it('still opens the store, and says why, when the credentials may not list uploads', async () => {
    // A proxy in front of the server that refuses ListMultipartUploads, as S3 does without
    // s3:ListBucketMultipartUploads.
    const proxy = await s3Proxy(s3.endpoint, (req) =>
      req.method === 'GET' && /[?&]uploads(=|&|$)/.test(req.url ?? '')
        ? { status: 403, code: 'AccessDenied' }
        : undefined,
    );
    const { lines, logger } = captured();
    try {
      const store = await openBlobStore(
        settingsAt(proxy.endpoint, `d/${randomUUID()}/`),
        dir,
        0o640,
        logger,
      );
      try {
        assert.equal(lines.length, 1, lines.join(''));
        assert.match(lines[0]!, /could not look for abandoned multipart uploads/);
        assert.match(lines[0]!, /AccessDenied/);
        assert.doesNotMatch(lines[0]!, /S3RVER/, 'no credential in the log');
        const ref = await store.put(Readable.from([Buffer.from('still works')]), {
          name: 'a',
          contentType: 'text/plain',
        });
        await store.remove(ref);
      } finally {
        store.close();
      }
    } finally {
      await proxy.close();
    }
  });

  it('keeps an upload whose abort failed for the next sweep, and still opens the store', async () => {
    const prefix = `f/${randomUUID()}/`;
    const old = ownKey(prefix);
    await begin(old, new Date(Date.now() - 2 * DAY));
    // The store fails every abort for a while (the SDK's own retries included), then works again.
    let down = true;
    let failed = 0;
    const proxy = await s3Proxy(s3.endpoint, (req) =>
      down && req.method === 'DELETE' && /[?&]uploadId=/.test(req.url ?? '') && ++failed > 0
        ? { status: 503, code: 'ServiceUnavailable' }
        : undefined,
    );
    const { lines, logger } = captured();
    try {
      const store = await openBlobStore(settingsAt(proxy.endpoint, prefix), dir, 0o640, logger);
      store.close();
      assert.ok(failed >= 1, 'the abort was tried');
      assert.equal(lines.length, 1, lines.join(''));
      assert.match(lines[0]!, /could not look for abandoned multipart uploads/);
      assert.deepEqual(await uploads(prefix), [old], 'still there after the failed abort');
      // The next sweep (an hour later, or the next start) takes it.
      down = false;
      const again = await openBlobStore(settingsAt(proxy.endpoint, prefix), dir, 0o640, logger);
      again.close();
      assert.deepEqual(await uploads(prefix), []);
      assert.equal(lines.length, 2, lines.join(''));
      assert.match(lines[1]!, /aborted incomplete multipart uploads/);
    } finally {
      await proxy.close();
      await abortAll(prefix);
    }
  });

  it('stops listing when a store answers the same truncated page again', async () => {
    // A store that always says "more" and points back at the same place.
    let lists = 0;
    const store: Server = createServer((req, res) => {
      lists += 1;
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><ListMultipartUploadsResult><Bucket>b</Bucket><IsTruncated>true</IsTruncated><NextKeyMarker>k</NextKeyMarker><NextUploadIdMarker>u</NextUploadIdMarker></ListMultipartUploadsResult>`,
      );
      req.resume();
    });
    await new Promise<void>((r) => store.listen(0, '127.0.0.1', r));
    const address = store.address();
    const looping = new S3Client({
      endpoint: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
      region: 'us-east-1',
      forcePathStyle: true,
    });
    try {
      assert.deepEqual(
        await abortIncompleteUploads(looping, { bucket: 'b', prefix: 'x/', olderThanMs: DAY }),
        [],
      );
      assert.equal(lists, 2, 'the first page, then the one it pointed to');
    } finally {
      looping.destroy();
      await new Promise((r) => store.close(r));
    }
  });
});
