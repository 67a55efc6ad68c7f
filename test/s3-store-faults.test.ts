import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { S3_TEST_ENV, startS3Server, type S3Server } from '../scripts/s3-server.js';
import { createS3BlobStore, type S3BlobSettings } from '../src/blobs/s3-blob-store.js';
import { StudyhookError } from '../src/errors.js';
import { s3Proxy, type S3Fault, type S3Refusal } from './helpers/s3-proxy.js';

const MB = 1024 * 1024;
const isPart = (method?: string, url = ''): boolean =>
  method === 'PUT' && /[?&]partNumber=2&/.test(url);
const isComplete = (method?: string, url = ''): boolean =>
  method === 'POST' && /[?&]uploadId=/.test(url);

describe('S3 blob store when the store misbehaves (a real proxy in front of the S3-protocol server)', function () {
  this.timeout(60000);
  let s3: S3Server;
  let dir: string;
  let settings: S3BlobSettings;
  let direct: ReturnType<typeof createS3BlobStore>;

  before(async () => {
    Object.assign(process.env, S3_TEST_ENV);
    dir = await mkdtemp(join(tmpdir(), 'studyhook-s3-faults-'));
    s3 = await startS3Server({ dir: join(dir, 's3') });
    settings = {
      bucket: s3.bucket,
      endpoint: s3.endpoint,
      region: 'us-east-1',
      prefix: 'faults/',
      forcePathStyle: true,
      partSizeBytes: 5 * MB,
      queueSize: 2,
    };
    direct = createS3BlobStore(settings);
  });
  after(async () => {
    direct.client.destroy();
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Objects and incomplete multipart uploads under the prefix, seen without the proxy. */
  async function inBucket(): Promise<{ objects: string[]; uploads: string[] }> {
    const objects = await direct.client.send(
      new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: settings.prefix }),
    );
    const uploads = await direct.client.send(
      new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: settings.prefix }),
    );
    return {
      objects: (objects.Contents ?? []).map((o) => o.Key!),
      uploads: (uploads.Uploads ?? []).map((u) => u.Key!),
    };
  }

  /** A store whose requests go through a proxy that `fault` may refuse, hang or lose the answer of. */
  async function storeBehind(
    fault: (method: string | undefined, url: string) => S3Refusal | S3Fault | undefined,
    over: Partial<S3BlobSettings> = {},
  ): Promise<{ store: ReturnType<typeof createS3BlobStore>; close(): Promise<void> }> {
    const proxy = await s3Proxy(s3.endpoint, (req) => fault(req.method, req.url ?? ''));
    const store = createS3BlobStore({ ...settings, endpoint: proxy.endpoint, ...over });
    return {
      store,
      close: async () => {
        store.client.destroy();
        await proxy.close();
      },
    };
  }

  it('removes the object when CompleteMultipartUpload took effect but its answer was lost (the retry fails)', async () => {
    let completes = 0;
    const { store, close } = await storeBehind((method, url) =>
      isComplete(method, url) && ++completes === 1 ? 'lose' : undefined,
    );
    try {
      await assert.rejects(
        store.put(Readable.from([randomBytes(11 * MB)]), { name: 'lost', contentType: 'x' }),
        (err: unknown) => err instanceof StudyhookError,
      );
      assert.ok(completes >= 2, 'the SDK retried CompleteMultipartUpload');
      assert.deepEqual(
        await inBucket(),
        { objects: [], uploads: [] },
        'an unacknowledged file is not kept',
      );
    } finally {
      await close();
    }
  });

  it('fails an upload whose part S3 never answers (each attempt times out), aborts it and leaves nothing', async () => {
    let hung = 0;
    const { store, close } = await storeBehind(
      (method, url) => (isPart(method, url) && ++hung > 0 ? 'hang' : undefined),
      { idleTimeoutMs: 300 },
    );
    try {
      const began = Date.now();
      await assert.rejects(
        store.put(Readable.from([randomBytes(12 * MB)]), { name: 'hung', contentType: 'x' }),
        (err: unknown) => err instanceof StudyhookError && err.code === 'SH_BLOB_STORE_UNAVAILABLE',
      );
      assert.ok(hung >= 2, `the part was tried again (${hung})`);
      assert.ok(Date.now() - began < 20000, 'bounded by the attempts, not by the test');
      assert.deepEqual(await inBucket(), { objects: [], uploads: [] });
    } finally {
      await close();
    }
  });

  it('completes an upload whose CompleteMultipartUpload went unanswered once (the retry is answered)', async () => {
    let completes = 0;
    const { store, close } = await storeBehind(
      (method, url) => (isComplete(method, url) && ++completes === 1 ? 'hang' : undefined),
      { idleTimeoutMs: 300 },
    );
    try {
      const ref = await store.put(Readable.from([randomBytes(11 * MB)]), {
        name: 'slow',
        contentType: 'x',
      });
      assert.equal(ref.size, 11 * MB);
      assert.equal(await direct.exists(ref), true);
      await direct.remove(ref);
      assert.deepEqual(await inBucket(), { objects: [], uploads: [] });
    } finally {
      await close();
    }
  });

  it('reads a whole file for a reader that pauses longer than the idle timeout (its own back-pressure)', async () => {
    const { store, close } = await storeBehind(() => undefined, { idleTimeoutMs: 1000 });
    try {
      const bytes = randomBytes(20 * MB);
      const ref = await store.put(Readable.from([bytes]), { name: 'read', contentType: 'x' });
      const got: Buffer[] = [];
      let length = 0;
      for await (const chunk of store.open(ref)) {
        got.push(chunk as Buffer);
        length += (chunk as Buffer).length;
        if (got.length === 1) await new Promise((r) => setTimeout(r, 2500));
      }
      assert.equal(length, bytes.length);
      assert.ok(Buffer.concat(got).equals(bytes));
      await store.remove(ref);
    } finally {
      await close();
    }
  });

  it('fails the stream of a read the store stops sending in the middle of, while the reader waits for more', async () => {
    const ref = await direct.put(Readable.from([randomBytes(200_000)]), {
      name: 'r',
      contentType: 'x',
    });
    const { store, close } = await storeBehind(
      (method) => (method === 'GET' ? 'stall' : undefined),
      {
        idleTimeoutMs: 300,
      },
    );
    try {
      let got = 0;
      await assert.rejects(
        (async () => {
          for await (const c of store.open(ref)) got += (c as Buffer).length;
        })(),
        { name: 'TimeoutError', message: /sent nothing for 300 ms/ },
      );
      assert.equal(got, 1024);
    } finally {
      await close();
      await direct.remove(ref);
    }
  });

  it('fails the stream of a read the store never answers', async () => {
    const ref = await direct.put(Readable.from([randomBytes(1000)]), {
      name: 'r',
      contentType: 'x',
    });
    const { store, close } = await storeBehind(
      (method) => (method === 'GET' ? 'hang' : undefined),
      {
        idleTimeoutMs: 300,
      },
    );
    try {
      await assert.rejects(
        (async () => {
          for await (const _ of store.open(ref));
        })(),
        { name: 'TimeoutError' },
      );
    } finally {
      await close();
      await direct.remove(ref);
    }
  });
});
