import { randomUUID } from 'node:crypto';
import { PassThrough, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { BlobsConfig } from '../config/load-config.js';
import { StudyhookError } from '../errors.js';
import { budgetOf, type BlobStore, type FileRef } from './blob-store.js';
import { HashCounter } from './hash-counter.js';
import { PartBudget } from './part-budget.js';
import { readStallGuard } from './read-stall.js';
import { uploadStream } from './s3-multipart.js';

/** The `blobs` settings of an S3-compatible store (the config's, with its defaults). */
export type S3BlobSettings = Omit<
  Extract<BlobsConfig, { type: 's3' }>,
  'type' | 'abortIncompleteAfterMs'
>;

/** The config's defaults of `blobs.idleTimeoutMs` and `blobs.sharedBufferBytes`. */
const IDLE_TIMEOUT_MS = 30_000;
const SHARED_BUFFER_BYTES = 100 * 1024 * 1024;

const ID = /^[0-9a-f-]{36}$/;
// why: an S3 status or SDK error name that means "the store cannot take this now", not "this file is wrong".
const UNAVAILABLE =
  /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EAI_AGAIN|TimeoutError|RequestTimeout|SlowDown|ServiceUnavailable|InternalError|NetworkingError)$/;

const UNSIGNED = new Set(['UploadPartCommand', 'PutObjectCommand']);

function unavailable(err: unknown): boolean {
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  return (
    UNAVAILABLE.test(e.code ?? '') ||
    UNAVAILABLE.test(e.name ?? '') ||
    (e.$metadata?.httpStatusCode ?? 0) >= 500
  );
}

/**
 * The S3 client of a store: checksums and payload signing left to the store (see below). `read`:
 * the client of `open()`, whose idle timeout ends at the response's headers (see there).
 */
export function createS3Client(
  s: Pick<S3BlobSettings, 'region' | 'endpoint' | 'forcePathStyle' | 'idleTimeoutMs'>,
  use: 'write' | 'read' = 'write',
): S3Client {
  const idle = s.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
  const client = new S3Client({
    region: s.region,
    forcePathStyle: s.forcePathStyle,
    ...(s.endpoint !== undefined && { endpoint: s.endpoint }),
    // why: the SDK sets no timeout of its own; a request S3 never answered (a part, or
    // CompleteMultipartUpload) held its upload forever: the platform's request, the part buffers,
    // and the abort, which waits for the parts in flight. Idle, not total: a large part on a slow
    // line keeps moving bytes, and S3 sends spaces while a long CompleteMultipartUpload works.
    // why only until the headers for a read: past them a pause is the reader's own back-pressure
    // (a slow destination), which a socket timeout would turn into an error.
    requestHandler:
      use === 'read'
        ? { requestTimeout: idle, throwOnRequestTimeout: true }
        : { socketTimeout: idle },
    // why: the sha256 of every file is ours (computed on the way); the SDK's own CRC of each part
    // cost CPU on every byte and is not accepted by every S3-compatible store.
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  // why: the SDK signs a Buffer body with its sha256, one more pass over every byte on the event
  // loop, while a streamed body goes as UNSIGNED-PAYLOAD (S3 accepts both). The bytes are hashed
  // once already (ours), and HTTPS protects them on the way, as it does a streamed PutObject.
  client.middlewareStack.add(
    (next, context) => (args) => {
      const request = args.request as { headers?: Record<string, string> };
      if (UNSIGNED.has(context.commandName ?? '') && request.headers)
        request.headers['x-amz-content-sha256'] = 'UNSIGNED-PAYLOAD';
      return next(args);
    },
    { step: 'build', name: 'studyhookUnsignedPayload' },
  );
  return client;
}

/**
 * Files in an S3-compatible bucket, at `<prefix><id[0..2]>/<id>`; `uri` is `s3://<bucket>/<key>`.
 * `put` streams through a multipart upload (s3-multipart.ts) while it counts and hashes, so memory
 * stays at (queueSize + 1) parts whatever the size, and nothing is written to local disk; it resolves
 * once the upload is complete (CompleteMultipartUpload answered, or the single PutObject of a small
 * file). On any failure, the multipart upload is aborted before it rejects (once every part in
 * flight has settled), and an object that was completed anyway is deleted.
 */
export function createS3BlobStore(
  s: S3BlobSettings,
): BlobStore & { check(): Promise<void>; client: S3Client; partBudget: PartBudget } {
  const client = createS3Client(s);
  const reader = createS3Client(s, 'read');
  const partBudget = new PartBudget(s.sharedBufferBytes ?? SHARED_BUFFER_BYTES);
  const idle = s.idleTimeoutMs ?? IDLE_TIMEOUT_MS;
  const keyOf = (id: string): string => `${s.prefix}${id.slice(0, 2)}/${id}`;
  const uriPrefix = `s3://${s.bucket}/${s.prefix}`;
  const keyOfRef = (ref: FileRef | string): string => {
    const uri = typeof ref === 'string' ? ref : ref.uri;
    const id = uri.startsWith(uriPrefix)
      ? uri.slice(uri.lastIndexOf('/') + 1)
      : typeof ref === 'string'
        ? ref.replace(/^blob:/, '')
        : ref.id;
    if (!ID.test(id) || (uri.startsWith('s3://') && uri !== `${uriPrefix}${id.slice(0, 2)}/${id}`))
      throw new Error(`not a blob of this store: ${uri}`);
    return keyOf(id);
  };

  async function finishPut(
    piped: Promise<void>,
    done: Promise<unknown>,
    key: string,
  ): Promise<void> {
    const [source, sent] = await Promise.allSettled([piped, done]);
    if (source.status === 'fulfilled' && sent.status === 'fulfilled') return;
    // why: the store took every byte although the source failed after its last one: not kept.
    if (sent.status === 'fulfilled')
      await client.send(new DeleteObjectCommand({ Bucket: s.bucket, Key: key }));
    const err =
      source.status === 'rejected'
        ? (source.reason as unknown)
        : ((sent as PromiseRejectedResult).reason as unknown);
    if (err instanceof StudyhookError || !unavailable(err)) throw err;
    throw new StudyhookError('SH_BLOB_STORE_UNAVAILABLE', undefined, {
      cause: err,
      headers: { 'Retry-After': '30' },
    });
  }

  return {
    client,
    partBudget,
    put(source, meta) {
      const id = randomUUID();
      const key = keyOf(id);
      const counter = new HashCounter(
        meta.budget ?? budgetOf(meta.maxBytes ?? Number.POSITIVE_INFINITY),
      );
      // why: attached before anything is awaited, so a source that fails at once has its error handled.
      const piped = pipeline(source, counter);
      const done = uploadStream(
        client,
        { Bucket: s.bucket, Key: key, ContentType: meta.contentType },
        counter,
        s.partSizeBytes,
        s.queueSize,
        partBudget,
      );
      return finishPut(piped, done, key).then(() => ({
        id,
        name: meta.name,
        contentType: meta.contentType,
        size: counter.bytes,
        sha256: counter.sha256,
        uri: `s3://${s.bucket}/${key}`,
      }));
    },
    open(ref, range) {
      const out = new PassThrough();
      const params = {
        Bucket: s.bucket,
        Key: keyOfRef(ref),
        ...(range && { Range: `bytes=${range.start}-${range.end}` }),
      };
      reader
        .send(new GetObjectCommand(params))
        .then((res) => pipeline(res.Body as Readable, readStallGuard(idle, out), out))
        .catch((err: Error) => out.destroy(err));
      return out;
    },
    async exists(ref) {
      const head = await client
        .send(new HeadObjectCommand({ Bucket: s.bucket, Key: keyOfRef(ref) }))
        .catch(() => undefined);
      return head?.ContentLength === ref.size;
    },
    async remove(ref) {
      await client.send(new DeleteObjectCommand({ Bucket: s.bucket, Key: keyOfRef(ref) }));
    },
    location: (ref) => `s3://${s.bucket}/${keyOfRef(ref)}`,
    /** Start-up check: the bucket answers with these credentials. */
    async check() {
      try {
        await client.send(new HeadBucketCommand({ Bucket: s.bucket }));
      } catch (err) {
        const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata
          ?.httpStatusCode;
        throw new StudyhookError(
          'SH_BLOB_STORE_UNAVAILABLE',
          `Cannot use the S3 bucket '${s.bucket}'${s.endpoint ? ` at ${s.endpoint}` : ''} (${status ? `HTTP ${status}` : (err as Error).message}).\n` +
            '  Fix: create the bucket, check blobs.endpoint / blobs.region / blobs.forcePathStyle, and give credentials\n' +
            '  (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or a role) that may read, write and delete in it.',
          { cause: err },
        );
      }
    },
  };
}
