// A real S3-protocol server on loopback for tests, `.ci/run` and the bench: s3rver (npm), with the
// two operations it lacks (AbortMultipartUpload, ListMultipartUploads: s3-server-uploads.ts), and its writes made to
// behave as S3's (scripts/s3-server-store.ts). Run alone: `npx tsx scripts/s3-server.ts --port 4569
// --dir /tmp/s3 --bucket studyhook`; credentials S3RVER / S3RVER.
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';
import { patchStore, type Store } from './s3-server-store.js';
import { ageUpload, multipartRoutes } from './s3-server-uploads.js';

// why createRequire: s3rver is CommonJS and ships no types.
const S3rver = createRequire(import.meta.url)('s3rver') as new (
  opts: Record<string, unknown>,
) => S3rverApp;

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
  /** Moves back when an incomplete upload began (tests of abandoned uploads). */
  ageUpload(uploadId: string, began: Date): Promise<void>;
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

  const multipart = multipartRoutes(uploads);
  // why before the router (the last middleware): the XML encoder above it still renders our answers.
  server.middleware.splice(server.middleware.length - 1, 0, multipart);
  const { port } = await server.run();
  return {
    endpoint: `http://127.0.0.1:${port}`,
    bucket,
    dir: opts.dir,
    ageUpload: (uploadId, began) => ageUpload(uploads(bucket), uploadId, began),
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
