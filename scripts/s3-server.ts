// A real S3-protocol server on loopback for tests, `.ci/run` and the bench: s3rver (npm), with the
// two operations it lacks (AbortMultipartUpload, ListMultipartUploads) and its part and object
// writes made to finish before it answers. Run alone: `npx tsx scripts/s3-server.ts --port 4569
// --dir /tmp/s3 --bucket studyhook`; credentials S3RVER / S3RVER.
import { createHash } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';

// why createRequire: s3rver is CommonJS and ships no types.
const S3rver = createRequire(import.meta.url)('s3rver') as new (
  opts: Record<string, unknown>,
) => S3rverApp;

interface Store {
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
}
interface KoaContext {
  method: string;
  path: string;
  query: Record<string, string | undefined>;
  status: number;
  body: unknown;
}
interface S3rverApp {
  store: Store;
  middleware: unknown[];
  run(): Promise<{ address: string; port: number }>;
  close(): Promise<void>;
}

/** The environment of a process that talks to this server: its credentials; the SDK's notice about Node 20 muted. */
export const S3_TEST_ENV = {
  AWS_ACCESS_KEY_ID: 'S3RVER',
  AWS_SECRET_ACCESS_KEY: 'S3RVER',
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
} as const;

export interface S3Server {
  endpoint: string;
  bucket: string;
  dir: string;
  close(): Promise<void>;
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

/** Starts s3rver on 127.0.0.1:`port` (0: any free port) with `bucket` created. */
export async function startS3Server(opts: {
  dir: string;
  port?: number;
  bucket?: string;
}): Promise<S3Server> {
  const bucket = opts.bucket ?? 'studyhook';
  const server = new S3rver({
    port: opts.port ?? 0,
    address: '127.0.0.1',
    silent: true,
    directory: opts.dir,
    configureBuckets: [{ name: bucket }],
  });
  const store = server.store;
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

  // AbortMultipartUpload (DELETE /<bucket>/<key>?uploadId=) and ListMultipartUploads (GET /<bucket>?uploads).
  const multipart = async (ctx: KoaContext, next: () => Promise<void>): Promise<void> => {
    const [, b, ...rest] = ctx.path.split('/');
    const key = rest.join('/');
    if (!b) {
      await next();
      return;
    }
    if (ctx.method === 'DELETE' && key !== '' && ctx.query['uploadId']) {
      const dir = join(uploads(b), ctx.query['uploadId']);
      if (!(await stat(dir).catch(() => undefined))) {
        ctx.status = 404;
        ctx.body = {
          Error: { Code: 'NoSuchUpload', Message: 'The specified upload does not exist.' },
        };
        return;
      }
      await rm(dir, { recursive: true, force: true });
      ctx.status = 204;
      return;
    }
    if (ctx.method === 'GET' && key === '' && 'uploads' in ctx.query) {
      const prefix = ctx.query['prefix'] ?? '';
      const ids = await readdir(uploads(b)).catch(() => [] as string[]);
      const found = (
        await Promise.all(
          ids.map(async (id) => ({
            id,
            key: await readFile(join(uploads(b), id, 'key'), 'utf8').catch(() => undefined),
            at: (await stat(join(uploads(b), id)).catch(() => undefined))?.birthtime,
          })),
        )
      ).filter((u) => u.key !== undefined && u.key.startsWith(prefix));
      ctx.body = {
        ListMultipartUploadsResult: {
          Bucket: b,
          Prefix: prefix,
          IsTruncated: false,
          Upload: found.map((u) => ({
            Key: u.key,
            UploadId: u.id,
            Initiated: (u.at ?? new Date()).toISOString(),
          })),
        },
      };
      return;
    }
    await next();
  };
  // why before the router (the last middleware): the XML encoder above it still renders our answers.
  server.middleware.splice(server.middleware.length - 1, 0, multipart);
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    dir: opts.dir,
    close: () => server.close(),
  };
}

if (process.argv[1]?.endsWith('scripts/s3-server.ts')) {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '4569' },
      dir: { type: 'string', default: '/tmp/studyhook-s3' },
      bucket: { type: 'string', default: 'studyhook' },
    },
  });
  const s = await startS3Server({
    dir: values.dir!,
    port: Number(values.port),
    bucket: values.bucket!,
  });
  process.stdout.write(
    `s3 server ${s.endpoint} bucket ${s.bucket} (credentials S3RVER / S3RVER)\n`,
  );
}
