import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ListMultipartUploadsCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { S3_TEST_ENV, startS3Server, type S3Server } from '../../scripts/s3-server.js';

/**
 * `STUDYHOOK_TEST_BLOBS=s3` runs the upload suites against a real S3-protocol server on loopback
 * (scripts/s3-server.ts: s3rver with multipart abort and listing), started here on first use in a
 * test file and stopped after it (test/helpers/mocha-setup.ts).
 */
export const S3_MODE = process.env['STUDYHOOK_TEST_BLOBS'] === 's3';

let server: Promise<S3Server> | undefined;
let serverDir: string | undefined;

// why: spawned gateways inherit the environment; the SDK reads its credentials from there.
if (S3_MODE) Object.assign(process.env, S3_TEST_ENV);

/** Stops the test S3 server if one was started (a root hook, after each file of a parallel run). */
export async function closeTestS3(): Promise<void> {
  const started = server;
  const dir = serverDir;
  server = undefined;
  serverDir = undefined;
  if (started) await (await started).close();
  if (dir) await rm(dir, { recursive: true, force: true });
}

/** The test S3 server, started on first use. */
export function testS3(): Promise<S3Server> {
  server ??= mkdtemp(join(tmpdir(), 'studyhook-s3-')).then((dir) => {
    serverDir = dir;
    return startS3Server({ dir });
  });
  return server;
}

/** The key prefix of a test gateway's files in the bucket: one per data directory. */
const prefixOf = (dataDir: string): string => `t/${basename(dataDir)}/`;

/** The `blobs` section for a gateway whose data directory is `dataDir`: empty (the filesystem) unless in S3 mode. */
export async function testBlobs(
  dataDir: string,
  over: Record<string, unknown> = {},
): Promise<Record<string, unknown>> {
  if (!S3_MODE) return {};
  const s3 = await testS3();
  return {
    blobs: {
      type: 's3',
      bucket: s3.bucket,
      endpoint: s3.endpoint,
      region: 'us-east-1',
      prefix: prefixOf(dataDir),
      forcePathStyle: true,
      partSizeBytes: 5 * 1024 * 1024,
      queueSize: 2,
      ...over,
    },
  };
}

/**
 * What a test gateway stored: finished files (by id) and partial ones (`.part` files on the
 * filesystem; multipart uploads not completed nor aborted in the bucket).
 */
export async function storedBlobs(
  dataDir: string,
): Promise<{ files: string[]; partials: string[] }> {
  if (!S3_MODE) {
    const entries = await readdir(join(dataDir, 'blobs'), {
      recursive: true,
      withFileTypes: true,
    }).catch(() => []);
    const names = entries.filter((e) => e.isFile()).map((e) => e.name);
    return {
      files: names.filter((n) => !n.endsWith('.part')),
      partials: names.filter((n) => n.endsWith('.part')),
    };
  }
  const s3 = await testS3();
  const client = new S3Client({ endpoint: s3.endpoint, region: 'us-east-1', forcePathStyle: true });
  try {
    const Prefix = prefixOf(dataDir);
    const objects = await client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix }));
    const uploads = await client.send(
      new ListMultipartUploadsCommand({ Bucket: s3.bucket, Prefix }),
    );
    return {
      files: (objects.Contents ?? []).map((o) => o.Key!.slice(o.Key!.lastIndexOf('/') + 1)),
      partials: (uploads.Uploads ?? []).map((u) => `${u.Key!} (upload ${u.UploadId!})`),
    };
  } finally {
    client.destroy();
  }
}
