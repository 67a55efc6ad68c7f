import { join } from 'node:path';
import type { BlobsConfig } from '../config/load-config.js';
import type { Logger } from '../log/logger.js';
import { createBlobStore, sweepPartialBlobs, type BlobStore, type FileRef } from './blob-store.js';

// why: a bare id is the store's own; only a `blob:` reference names a file of the local directory.
const local = (ref: FileRef | string): boolean =>
  (typeof ref === 'string' ? ref : ref.uri).startsWith('blob:');

/**
 * The blob store the config names, checked: `<dataDir>/blobs` (partial files of dead writers swept
 * unless `sweep` is false), or an S3 bucket (it must answer HeadBucket; unless `sweep` is false,
 * its abandoned multipart uploads are aborted now and every hour until `close`). A bucket store
 * still reads and removes `blob:` files of the local directory, which events queued before the
 * switch to S3 refer to.
 */
export async function openBlobStore(
  blobs: BlobsConfig,
  dataDir: string,
  fileMode: number,
  logger?: Pick<Logger, 'warn'>,
  opts: { sweep?: boolean } = {},
): Promise<BlobStore & { close(): void }> {
  const dir = join(dataDir, 'blobs');
  const fs = createBlobStore(dir, fileMode);
  if (blobs.type !== 's3') {
    const store = { ...fs, close: () => undefined };
    if (opts.sweep === false) return store;
    // why: a process killed mid-upload (or mid-download, in a sink) leaves its partial file behind.
    const swept = await sweepPartialBlobs(dir);
    if (swept.length > 0)
      logger?.warn({ files: swept.length }, 'removed partial files left by a process that is gone');
    return store;
  }
  // why imported here: the AWS SDK adds about 20 MB to a process, which a filesystem store does not need.
  const { createS3BlobStore } = await import('./s3-blob-store.js');
  const { sweepIncompleteUploads } = await import('./s3-incomplete-uploads.js');
  const s3 = createS3BlobStore(blobs);
  await s3.check();
  const sweeping =
    opts.sweep !== false && blobs.abortIncompleteAfterMs > 0
      ? await sweepIncompleteUploads(
          s3.client,
          { bucket: blobs.bucket, prefix: blobs.prefix, olderThanMs: blobs.abortIncompleteAfterMs },
          logger,
        )
      : undefined;
  return {
    close: () => sweeping?.stop(),
    put: (source, meta) => s3.put(source, meta),
    open: (ref, range) => (local(ref) ? fs.open(ref, range) : s3.open(ref, range)),
    exists: (ref) => (local(ref) ? fs.exists(ref) : s3.exists(ref)),
    remove: (ref) => (local(ref) ? fs.remove(ref) : s3.remove(ref)),
    location: (ref) => (local(ref) ? fs.location(ref) : s3.location(ref)),
  };
}
