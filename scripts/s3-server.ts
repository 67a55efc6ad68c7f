// A real S3-protocol server on loopback for tests, `.ci/run` and the bench: s3rver (npm), with the
// two operations it lacks (AbortMultipartUpload, ListMultipartUploads), and its writes made to
// behave as S3's (scripts/s3-server-store.ts). Run alone: `npx tsx scripts/s3-server.ts --port 4569
// --dir /tmp/s3 --bucket studyhook`; credentials S3RVER / S3RVER.
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { patchStore, type Store } from './s3-server-store.js';

// why createRequire: s3rver is CommonJS and ships no types.
const S3rver = createRequire(import.meta.url)('s3rver') as new (
  opts: Record<string, unknown>,
) => S3rverApp;

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

  patchStore(store);

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
