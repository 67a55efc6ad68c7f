// The parts of s3rver's filesystem store that scripts/s3-server.ts replaces, so that the test server
// answers as S3 does: a part or an object is on disk when it is acknowledged, and completing a
// multipart upload assembles the parts it has without hashing the whole object again.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface Store {
  getResourcePath(bucket: string, key: string | undefined, resource: string): string;
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

// why createRequire: s3rver is CommonJS and ships no types.
const S3Error = createRequire(import.meta.url)('s3rver/lib/models/error') as new (
  code: string,
  message: string,
) => Error;

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

/** Replaces s3rver's part, object and multipart-completion writes in `store`. */
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

  // why: s3rver completed an upload by streaming every part through md5 into a new file, so the
  // server hashed and wrote each byte twice and a multipart upload cost it twice a single PUT. S3
  // assembles the parts it has: it checks each part's ETag and gives the object the md5 of the
  // parts' md5s with "-<count>" as its ETag. Here the first part becomes the object file and the
  // others are appended to it, unhashed.
  store.putObjectMultipart = async (b, uploadId, parts) => {
    const dir = join(uploads(b), uploadId);
    const [key, metadata] = await Promise.all([
      readFile(join(dir, 'key'), 'utf8'),
      readFile(join(dir, 'metadata'), 'utf8').then((t) => JSON.parse(t) as unknown),
    ]);
    const sorted = [...parts].sort((x, y) => x.number - y.number);
    const md5s = createHash('md5');
    for (const p of sorted) {
      const md5 = await readFile(join(dir, `${p.number}.md5`), 'utf8').catch(() => undefined);
      if (md5 !== p.etag)
        throw new S3Error('InvalidPart', `Part ${p.number} was not uploaded or has another ETag.`);
      md5s.update(Buffer.from(md5, 'hex'));
    }
    const path = store.getResourcePath(b, key, 'object');
    await mkdir(dirname(path), { recursive: true });
    await rename(join(dir, String(sorted[0]!.number)), path);
    const out = createWriteStream(path, { flags: 'a' });
    for (const p of sorted.slice(1))
      await pipeline(
        createReadStream(join(dir, String(p.number)), { highWaterMark: 1 << 20 }),
        out,
        {
          end: false,
        },
      );
    out.end();
    await new Promise<void>((resolve, reject) => out.once('close', resolve).once('error', reject));
    const etag = `${md5s.digest('hex')}-${sorted.length}`;
    await store.putMetadata(b, key, metadata, etag);
    await rm(dir, { recursive: true, force: true });
    return { size: (await stat(path)).size, md5: etag };
  };
}
