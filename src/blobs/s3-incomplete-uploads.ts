import {
  AbortMultipartUploadCommand,
  ListMultipartUploadsCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { Logger } from '../log/logger.js';

/** Which incomplete multipart uploads are this store's, and from when on they count as abandoned. */
export interface IncompleteUploadsScope {
  bucket: string;
  prefix: string;
  /** An upload initiated longer ago than this is abandoned. */
  olderThanMs: number;
  /** Uploads per listing page (S3's default, 1,000, when unset). */
  pageSize?: number;
}

// why: a bucket, or a prefix, may be shared with other software; only keys this store makes
// (`<prefix><id[0..2]>/<id>`, see s3-blob-store.ts) are its own.
const OWN_KEY = /^[0-9a-f]{2}\/[0-9a-f-]{36}$/;

/**
 * Aborts this store's multipart uploads that were initiated more than `olderThanMs` ago and are
 * still neither completed nor aborted, and returns their keys.
 * why: the store aborts the upload of every request that fails, but not when its process dies
 * (killed, out of memory, a host lost) in the middle of an upload, nor when the abort itself
 * fails (the store was unreachable at that moment); S3 keeps such an upload, invisible and
 * billed, until someone aborts it. why by age: a live upload of another replica looks the same;
 * none lasts as long as the threshold (a day by default), and aborting one that did would only
 * fail that request, which then was never acknowledged.
 */
export async function abortIncompleteUploads(
  client: S3Client,
  scope: IncompleteUploadsScope,
  now = Date.now(),
): Promise<string[]> {
  const aborted: string[] = [];
  let KeyMarker: string | undefined;
  let UploadIdMarker: string | undefined;
  do {
    const page = await client.send(
      new ListMultipartUploadsCommand({
        Bucket: scope.bucket,
        Prefix: scope.prefix,
        MaxUploads: scope.pageSize,
        KeyMarker,
        UploadIdMarker,
      }),
    );
    for (const u of page.Uploads ?? []) {
      const key = u.Key ?? '';
      if (!OWN_KEY.test(key.slice(scope.prefix.length)) || !u.UploadId || !u.Initiated) continue;
      if (now - u.Initiated.getTime() <= scope.olderThanMs) continue;
      try {
        await client.send(
          new AbortMultipartUploadCommand({ Bucket: scope.bucket, Key: key, UploadId: u.UploadId }),
        );
        aborted.push(key);
      } catch (err) {
        // why: another replica's sweep may have aborted it a moment ago.
        if ((err as { name?: string }).name !== 'NoSuchUpload') throw err;
      }
    }
    // why the markers must move: a store that answered the same page again would loop forever.
    const moved = page.NextKeyMarker !== KeyMarker || page.NextUploadIdMarker !== UploadIdMarker;
    const more =
      page.IsTruncated === true && moved && !!(page.NextKeyMarker || page.NextUploadIdMarker);
    KeyMarker = more ? page.NextKeyMarker : undefined;
    UploadIdMarker = more ? page.NextUploadIdMarker : undefined;
  } while (KeyMarker !== undefined || UploadIdMarker !== undefined);
  return aborted;
}

/** How often a running process looks again. */
export const SWEEP_EVERY_MS = 60 * 60 * 1000;

/**
 * Aborts abandoned uploads now and then every {@link SWEEP_EVERY_MS} until `stop` is called.
 * A sweep that fails (the store unreachable, or credentials without
 * `s3:ListBucketMultipartUploads`) is logged and tried again at the next turn; it never stops
 * the process. Resolves once the first sweep is over.
 */
export async function sweepIncompleteUploads(
  client: S3Client,
  scope: IncompleteUploadsScope,
  logger?: Pick<Logger, 'warn'>,
): Promise<{ stop(): void }> {
  const sweep = async (): Promise<void> => {
    try {
      const aborted = await abortIncompleteUploads(client, scope);
      if (aborted.length > 0)
        logger?.warn(
          { uploads: aborted.length, olderThanMs: scope.olderThanMs },
          'aborted incomplete multipart uploads left by a process that is gone',
        );
    } catch (err) {
      logger?.warn(
        { err },
        'could not look for abandoned multipart uploads (needs s3:ListBucketMultipartUploads and s3:AbortMultipartUpload); trying again later',
      );
    }
  };
  await sweep();
  const timer = setInterval(() => void sweep(), SWEEP_EVERY_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
