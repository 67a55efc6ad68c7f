import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { listZip } from '../adapters/sensorlogger/recording.js';
import { S3_TEST_ENV, startS3Server, type S3Server } from '../scripts/s3-server.js';
import { budgetOf, createBlobStore } from '../src/blobs/blob-store.js';
import { openBlobStore } from '../src/blobs/open-blob-store.js';
import { createS3BlobStore, type S3BlobSettings } from '../src/blobs/s3-blob-store.js';
import { StudyhookError } from '../src/errors.js';
import { freePort } from './helpers/processes.js';
import { makeZip } from './helpers/make-zip.js';

const MB = 1024 * 1024;

/** `size` random bytes in 1 MiB pieces that yield between them, then `fail` (if given) instead of the end. */
function source(bytes: Buffer, fail?: Error): Readable {
  return Readable.from(
    (async function* () {
      for (let at = 0; at < bytes.length; at += MB) {
        yield bytes.subarray(at, at + MB);
        await new Promise((r) => setImmediate(r));
      }
      if (fail) throw fail;
    })(),
  );
}

describe('S3 blob store against a real S3-protocol server on loopback', function () {
  this.timeout(60000);
  let s3: S3Server;
  let dir: string;
  let settings: S3BlobSettings;
  let store: ReturnType<typeof createS3BlobStore>;

  before(async () => {
    Object.assign(process.env, S3_TEST_ENV);
    dir = await mkdtemp(join(tmpdir(), 'studyhook-s3-test-'));
    s3 = await startS3Server({ dir: join(dir, 's3') });
    settings = {
      bucket: s3.bucket,
      endpoint: s3.endpoint,
      region: 'us-east-1',
      prefix: 'blobs/',
      forcePathStyle: true,
      partSizeBytes: 5 * MB,
      queueSize: 2,
    };
    store = createS3BlobStore(settings);
  });
  after(async () => {
    store.client.destroy();
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Objects and incomplete multipart uploads under the store's prefix. */
  async function inBucket(): Promise<{ objects: string[]; uploads: string[] }> {
    const objects = await store.client.send(
      new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: settings.prefix }),
    );
    const uploads = await store.client.send(
      new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix: settings.prefix }),
    );
    return {
      objects: (objects.Contents ?? []).map((o) => o.Key!),
      uploads: (uploads.Uploads ?? []).map((u) => u.Key!),
    };
  }

  it('streams a file over several parts with its sha256 and size, reads it back whole and by range, and removes it', async () => {
    const bytes = randomBytes(13 * MB + 7);
    const ref = await store.put(source(bytes), {
      name: 'rec.bin',
      contentType: 'application/octet-stream',
    });
    assert.equal(ref.size, bytes.length);
    assert.equal(ref.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(ref.uri, `s3://${s3.bucket}/blobs/${ref.id.slice(0, 2)}/${ref.id}`);
    assert.deepEqual(
      await inBucket(),
      { objects: [`blobs/${ref.id.slice(0, 2)}/${ref.id}`], uploads: [] },
      'one object, no upload left open',
    );
    assert.ok((await buffer(store.open(ref))).equals(bytes));
    assert.ok(
      (await buffer(store.open(ref, { start: 5 * MB - 3, end: 5 * MB + 3 }))).equals(
        bytes.subarray(5 * MB - 3, 5 * MB + 4),
      ),
    );
    assert.equal(await store.exists(ref), true);
    await store.remove(ref);
    assert.equal(await store.exists(ref), false);
    assert.deepEqual(await inBucket(), { objects: [], uploads: [] });
  });

  it('stores a file at the edges of a part whole: empty, a part less or more one byte, one and two parts', async () => {
    for (const size of [0, 5 * MB - 1, 5 * MB, 5 * MB + 1, 10 * MB]) {
      const bytes = randomBytes(size);
      const ref = await store.put(source(bytes), { name: 'edge', contentType: 'x' });
      assert.equal(ref.size, size);
      assert.equal(ref.sha256, createHash('sha256').update(bytes).digest('hex'));
      assert.ok((await buffer(store.open(ref))).equals(bytes), `${size} bytes read back`);
      assert.deepEqual((await inBucket()).uploads, [], `${size} bytes: no upload left open`);
      await store.remove(ref);
    }
  });

  it('stores each of several uploads in a row byte for byte, a shorter one after a longer one (part buffers are reused)', async () => {
    for (const size of [12 * MB + 3, 7 * MB + 1, 5 * MB + 2, 100]) {
      const bytes = randomBytes(size);
      const ref = await store.put(source(bytes), { name: 'row', contentType: 'x' });
      assert.equal(ref.sha256, createHash('sha256').update(bytes).digest('hex'));
      assert.ok((await buffer(store.open(ref))).equals(bytes), `${size} bytes read back`);
      await store.remove(ref);
    }
  });

  it('aborts the multipart upload of a file over its budget: no object and no incomplete upload is left', async () => {
    await assert.rejects(
      store.put(source(randomBytes(16 * MB)), {
        name: 'big',
        contentType: 'x',
        budget: budgetOf(12 * MB),
      }),
      (err: unknown) => err instanceof StudyhookError && err.code === 'SH_BLOB_TOO_LARGE',
    );
    assert.deepEqual(await inBucket(), { objects: [], uploads: [] });
  });

  it('aborts the multipart upload when the source fails after some parts: nothing is left', async () => {
    await assert.rejects(
      store.put(source(randomBytes(11 * MB), new Error('connection reset')), {
        name: 'cut',
        contentType: 'x',
      }),
      /connection reset/,
    );
    assert.deepEqual(await inBucket(), { objects: [], uploads: [] });
  });

  it('leaves no incomplete upload when the source fails while the multipart upload is being created', async () => {
    // why one chunk of a part and a byte, then the error at once: the failure arrives while
    // CreateMultipartUpload is on its way, and the upload must not start parts after giving up.
    let sent = false;
    const cut = new Readable({
      read() {
        if (sent) return;
        sent = true;
        this.push(randomBytes(5 * MB + 1));
        process.nextTick(() => this.destroy(new Error('connection reset')));
      },
    });
    await assert.rejects(store.put(cut, { name: 'cut', contentType: 'x' }), /connection reset/);
    assert.deepEqual(await inBucket(), { objects: [], uploads: [] });
  });

  it('refuses a reference to another bucket', () => {
    assert.throws(
      () => store.open(`s3://elsewhere/blobs/aa/${'a'.repeat(8)}-aaaa-aaaa-aaaa-${'a'.repeat(12)}`),
      /not a blob of this store/,
    );
  });

  it('answers SH_BLOB_STORE_UNAVAILABLE (503) when the store cannot be reached, and start-up names the bucket and the fix', async () => {
    const down = createS3BlobStore({
      ...settings,
      endpoint: `http://127.0.0.1:${await freePort()}`,
    });
    down.client.config.maxAttempts = async () => 1;
    await assert.rejects(
      down.put(source(randomBytes(1000)), { name: 'x', contentType: 'x' }),
      (err: unknown) =>
        err instanceof StudyhookError &&
        err.code === 'SH_BLOB_STORE_UNAVAILABLE' &&
        err.statusCode === 503,
    );
    await assert.rejects(
      openBlobStore(
        { type: 's3', ...settings, bucket: 'no-such-bucket', abortIncompleteAfterMs: 0 },
        dir,
        0o640,
      ),
      /Cannot use the S3 bucket 'no-such-bucket'.*\n.*Fix: create the bucket/,
    );
    down.client.destroy();
  });

  it('still reads and removes the blob: files of the local directory that older events refer to', async () => {
    const local = createBlobStore(join(dir, 'blobs'));
    const old = await local.put(Readable.from([Buffer.from('before the switch')]), {
      name: 'old',
      contentType: 'text/plain',
    });
    const both = await openBlobStore(
      { type: 's3', ...settings, abortIncompleteAfterMs: 86_400_000 },
      dir,
      0o640,
    );
    assert.equal((await buffer(both.open(old))).toString(), 'before the switch');
    const fresh = await both.put(Readable.from([Buffer.from('after')]), {
      name: 'new',
      contentType: 'text/plain',
    });
    assert.match(fresh.uri, /^s3:\/\//);
    assert.equal((await buffer(both.open(fresh.uri))).toString(), 'after');
    await both.remove(old);
    assert.equal(await local.exists(old), false);
    await both.remove(fresh);
    both.close();
  });

  it('lists a recording zip in the bucket through ranged reads, without a local copy', async () => {
    const zip = makeZip([
      { name: 'Accelerometer.csv', data: 'time,x\n1,0.5\n' },
      { name: 'Metadata.csv', data: randomBytes(3 * MB) },
    ]);
    const ref = await store.put(source(zip), { name: 'r.zip', contentType: 'application/zip' });
    assert.deepEqual(await listZip(store, ref), [
      { name: 'Accelerometer.csv', size: 13 },
      { name: 'Metadata.csv', size: 3 * MB },
    ]);
    await store.remove(ref);
  });
});
