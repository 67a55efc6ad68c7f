import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteBucketCorsCommand,
  DeleteObjectCommand,
  GetBucketCorsCommand,
  HeadBucketCommand,
  PutBucketCorsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { S3_TEST_ENV, startS3Server, type S3Server } from '../scripts/s3-server.js';
import { createS3Client } from '../src/blobs/s3-blob-store.js';
import { PartBudget } from '../src/blobs/part-budget.js';
import { uploadStream } from '../src/blobs/s3-multipart.js';

const MB = 1024 * 1024;

/** Every file under `dir`, with its size. */
async function files(dir: string): Promise<{ path: string; size: number }[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return Promise.all(
    entries
      .filter((e) => e.isFile())
      .map(async (e) => {
        const path = join(e.parentPath, e.name);
        return { path, size: (await stat(path)).size };
      }),
  );
}

type S3Suite = { s3: S3Server; dir: string; client: ReturnType<typeof createS3Client> };

/** A test S3 server in a fresh directory, and a client to it, for the suite that calls this. */
function suiteS3(prefix: string): S3Suite {
  const t = {} as S3Suite;
  before(async () => {
    Object.assign(process.env, S3_TEST_ENV);
    t.dir = await mkdtemp(join(tmpdir(), prefix));
    t.s3 = await startS3Server({ dir: join(t.dir, 's3') });
    t.client = createS3Client({
      endpoint: t.s3.endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
    });
  });
  after(async () => {
    t.client?.destroy();
    await t.s3?.close();
    if (t.dir) await rm(t.dir, { recursive: true, force: true });
  });
  return t;
}

describe('the test S3 server keeps a completed multipart upload as its parts', function () {
  this.timeout(60000);
  const t = suiteS3('studyhook-s3-server-');
  // why 1 MiB parts and 5 bytes more: four parts, the last one short, as a real upload ends.
  const bytes = randomBytes(3 * MB + 5);

  // why: every test starts from an empty bucket, so that what it finds on disk is its own.
  afterEach(async () => {
    const listed = await t.client.send(new ListObjectsV2Command({ Bucket: t.s3.bucket }));
    for (const o of listed.Contents ?? [])
      await t.client.send(new DeleteObjectCommand({ Bucket: t.s3.bucket, Key: o.Key }));
  });

  const upload = (key: string): Promise<void> =>
    uploadStream(
      t.client,
      { Bucket: t.s3.bucket, Key: key },
      Readable.from([bytes]),
      MB,
      2,
      new PartBudget(2 * MB),
    );
  const get = async (key: string, range?: string): Promise<Buffer> => {
    const res = await t.client.send(
      new GetObjectCommand({ Bucket: t.s3.bucket, Key: key, ...(range && { Range: range }) }),
    );
    return buffer(res.Body as Readable);
  };
  const bytesOnDisk = async (): Promise<number> =>
    (await files(join(t.dir, 's3'))).reduce((n, f) => n + f.size, 0);

  it('reads it back byte for byte, whole and by ranges within, across and at the ends of parts', async () => {
    await upload('a/obj');
    const head = await t.client.send(new HeadObjectCommand({ Bucket: t.s3.bucket, Key: 'a/obj' }));
    assert.equal(head.ContentLength, bytes.length);
    assert.match(head.ETag!, /-4"$/);
    assert.ok((await get('a/obj')).equals(bytes));
    for (const [start, end] of [
      [0, 0],
      [10, 20],
      [MB - 3, MB + 2],
      [MB - 1, 3 * MB + 1],
      [3 * MB, 3 * MB + 4],
      [bytes.length - 1, bytes.length - 1],
    ] as const)
      assert.ok(
        (await get('a/obj', `bytes=${start}-${end}`)).equals(bytes.subarray(start, end + 1)),
        `bytes=${start}-${end}`,
      );
    await assert.rejects(get('a/obj', `bytes=${bytes.length}-${bytes.length + 9}`), {
      name: 'InvalidRange',
    });
    const listed = await t.client.send(
      new ListObjectsV2Command({ Bucket: t.s3.bucket, Prefix: 'a/' }),
    );
    assert.deepEqual(
      listed.Contents?.map((o) => [o.Key, o.Size]),
      [['a/obj', bytes.length]],
    );
  });

  it('does not copy the parts into one file: each byte is on disk once, in its part', async () => {
    await upload('b/obj');
    const onDisk = await files(join(t.dir, 's3'));
    assert.ok(Math.max(...onDisk.map((f) => f.size)) <= MB);
    const total = onDisk.reduce((n, f) => n + f.size, 0);
    // why the margin: the manifest, the ETags and the metadata of an object are small files.
    assert.ok(total >= bytes.length && total < bytes.length + 64 * 1024, `${total}`);
  });

  it('copies it into an object of one part with the same bytes, and deletes it with its parts', async () => {
    await upload('c/obj');
    await t.client.send(
      new CopyObjectCommand({
        Bucket: t.s3.bucket,
        Key: 'c/copy',
        CopySource: `${t.s3.bucket}/c/obj`,
      }),
    );
    const head = await t.client.send(new HeadObjectCommand({ Bucket: t.s3.bucket, Key: 'c/copy' }));
    assert.doesNotMatch(head.ETag!, /-/);
    assert.ok((await get('c/copy')).equals(bytes));
    for (const key of ['c/obj', 'c/copy'])
      await t.client.send(new DeleteObjectCommand({ Bucket: t.s3.bucket, Key: key }));
    assert.deepEqual(await files(join(t.dir, 's3')), []);
  });

  it('removes the parts of an object that a PUT or another multipart upload replaces', async () => {
    await upload('d/obj');
    await upload('d/obj');
    assert.ok((await get('d/obj')).equals(bytes));
    assert.ok((await bytesOnDisk()) < bytes.length + 64 * 1024);
    await t.client.send(new PutObjectCommand({ Bucket: t.s3.bucket, Key: 'd/obj', Body: 'small' }));
    assert.equal((await get('d/obj')).toString(), 'small');
    assert.ok((await bytesOnDisk()) < 64 * 1024);
    await t.client.send(new DeleteObjectCommand({ Bucket: t.s3.bucket, Key: 'd/obj' }));
    assert.deepEqual(await files(join(t.dir, 's3')), []);
  });
});

describe('the test S3 server keeps bucket lookups in memory, as S3 does', function () {
  this.timeout(60000);
  const t = suiteS3('studyhook-s3-lookups-');

  const status = (p: Promise<unknown>): Promise<number> =>
    p.then(
      () => 200,
      (err: { $metadata?: { httpStatusCode?: number } }) => err.$metadata?.httpStatusCode ?? 0,
    );

  it('answers for a bucket created and deleted through it, once known, as it now is', async () => {
    const Bucket = 'made-here';
    assert.equal(await status(t.client.send(new HeadBucketCommand({ Bucket }))), 404);
    await t.client.send(new CreateBucketCommand({ Bucket }));
    assert.equal(await status(t.client.send(new HeadBucketCommand({ Bucket }))), 200);
    await t.client.send(new DeleteBucketCommand({ Bucket }));
    assert.equal(await status(t.client.send(new HeadBucketCommand({ Bucket }))), 404);
  });

  it("serves a bucket's CORS configuration as last written or deleted through it", async () => {
    const Bucket = t.s3.bucket;
    const rule = (origin: string) => ({
      CORSRules: [{ AllowedMethods: ['GET'], AllowedOrigins: [origin] }],
    });
    assert.equal(await status(t.client.send(new GetBucketCorsCommand({ Bucket }))), 404);
    for (const origin of ['https://a.example', 'https://b.example']) {
      await t.client.send(new PutBucketCorsCommand({ Bucket, CORSConfiguration: rule(origin) }));
      const got = await t.client.send(new GetBucketCorsCommand({ Bucket }));
      assert.deepEqual(got.CORSRules?.[0]?.AllowedOrigins, [origin]);
    }
    await t.client.send(new DeleteBucketCorsCommand({ Bucket }));
    assert.equal(await status(t.client.send(new GetBucketCorsCommand({ Bucket }))), 404);
  });
});
