// The parts of s3rver's filesystem store that scripts/s3-server.ts replaces, so that the test server
// answers as S3 does: a part or an object is on disk when it is acknowledged, and a completed
// multipart upload is kept as its parts (scripts/s3-server-parts.ts), as S3 and MinIO keep it.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { cacheBucketLookups } from './s3-server-lookups.js';
import { keepMultipartParts } from './s3-server-parts.js';

/** An object as s3rver's models/object.js makes it. */
export interface S3ObjectModel {
  content: Readable | null;
  metadata: Record<string, unknown>;
  range?: { start: number; end: number };
}

export interface Store {
  getBucket(bucket: string): Promise<unknown>;
  putBucket(bucket: string): Promise<unknown>;
  deleteBucket(bucket: string): Promise<unknown>;
  getSubresource(bucket: string, key: string | undefined, type: string): Promise<unknown>;
  putSubresource(
    bucket: string,
    key: string | undefined,
    resource: { type: string },
  ): Promise<unknown>;
  deleteSubresource(bucket: string, key: string | undefined, type: string): Promise<unknown>;
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
  getMetadata(bucket: string, key: string): Promise<Record<string, unknown>>;
  getObject(
    bucket: string,
    key: string,
    options?: { start?: number; end?: number },
  ): Promise<S3ObjectModel | null>;
  copyObject(
    srcBucket: string,
    srcKey: string,
    destBucket: string,
    destKey: string,
    replacementMetadata: unknown,
  ): Promise<Record<string, unknown>>;
  deleteObject(bucket: string, key: string): Promise<void>;
  putMetadata(bucket: string, key: string, metadata: unknown, md5: string): Promise<void>;
  putPart(
    bucket: string,
    uploadId: string,
    partNumber: number,
    content: Readable,
  ): Promise<{ size: number; md5: string }>;
  putObject(object: {
    bucket: string;
    key: string;
    content: Readable | Buffer;
    metadata: unknown;
  }): Promise<{ size: number; md5: string }>;
  putObjectMultipart(
    bucket: string,
    uploadId: string,
    parts: { number: number; etag: string }[],
  ): Promise<{ size: number; md5: string }>;
}

/** Writes a stream to a file, resolving (with size and md5) only once the file is written. */
async function writeCounted(
  content: Readable | Buffer,
  path: string,
): Promise<{ size: number; md5: string }> {
  await mkdir(dirname(path), { recursive: true });
  const md5 = createHash('md5');
  let size = 0;
  const count = new Transform({
    transform(chunk: Buffer, _e, done) {
      md5.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
  });
  if (Buffer.isBuffer(content)) count.end(content);
  await (Buffer.isBuffer(content)
    ? pipeline(count, createWriteStream(path))
    : pipeline(content, count, createWriteStream(path)));
  return { size, md5: md5.digest('hex') };
}

/** Replaces s3rver's part and object writes in `store`, and keeps multipart objects as their parts. */
export function patchStore(store: Store): void {
  const uploads = (b: string): string => store.getResourcePath(b, undefined, 'uploads');

  // why: s3rver answers a part or an object as soon as the bytes went through its hash, before the
  // file is written; a read right after (CompleteMultipartUpload, a GET) could see it short.
  store.putPart = (b, uploadId, partNumber, content) =>
    writeCounted(content, join(uploads(b), uploadId, String(partNumber))).then(async (r) => {
      await writeFile(join(uploads(b), uploadId, `${partNumber}.md5`), r.md5);
      return r;
    });
  store.putObject = async (object) => {
    const r = await writeCounted(
      object.content,
      store.getResourcePath(object.bucket, object.key, 'object'),
    );
    await store.putMetadata(object.bucket, object.key, object.metadata, r.md5);
    return r;
  };

  keepMultipartParts(store);
  cacheBucketLookups(store);
}
