import { createHash, randomUUID } from 'node:crypto';
import { createReadStream, createWriteStream, type ReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FileRef } from '../generated/file-ref.js';
import { StudyhookError } from '../errors.js';

export type { FileRef };

/** Where files live. Only references ({@link FileRef}) travel through Redis, never the bytes. */
export interface BlobStore {
  /** Streams `source` to disk (hashing as it goes), fsyncs, and returns its reference. Over `maxBytes` nothing is left behind. */
  put(source: Readable, meta: { name: string; contentType: string; maxBytes?: number }): Promise<FileRef>;
  /** Opens a stored file for reading. */
  open(ref: FileRef | string): ReadStream;
  /** Absolute path of a stored file (for tools that want a path). */
  path(ref: FileRef | string): string;
  remove(ref: FileRef | string): Promise<void>;
}

const ID = /^[0-9a-f-]{36}$/;

/** A blob store on the local filesystem: `<dir>/<id[0..2]>/<id>`, written to a temp name and renamed after fsync. */
export function createBlobStore(dir: string): BlobStore {
  const pathOf = (ref: FileRef | string): string => {
    const id = typeof ref === 'string' ? ref.replace(/^blob:/, '') : ref.id;
    if (!ID.test(id)) throw new Error(`not a blob id: ${id}`);
    return join(dir, id.slice(0, 2), id);
  };
  return {
    async put(source, meta) {
      const id = randomUUID();
      const final = pathOf(id);
      const temp = `${final}.part`;
      await mkdir(join(dir, id.slice(0, 2)), { recursive: true });
      const hash = createHash('sha256');
      let size = 0;
      const limit = meta.maxBytes ?? Number.POSITIVE_INFINITY;
      const meter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          size += chunk.length;
          if (size > limit) { done(new StudyhookError('SH_BLOB_TOO_LARGE', `File is larger than ${limit} bytes`)); return; }
          hash.update(chunk);
          done(null, chunk);
        },
      });
      try {
        await pipeline(source, meter, createWriteStream(temp));
        const fh = await open(temp, 'r');
        try { await fh.sync(); } finally { await fh.close(); }
        await rename(temp, final);
        await syncDir(join(dir, id.slice(0, 2)));
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
      return { id, name: meta.name, contentType: meta.contentType, size, sha256: hash.digest('hex'), uri: `blob:${id}` };
    },
    open: (ref) => createReadStream(pathOf(ref)),
    path: pathOf,
    async remove(ref) { await rm(pathOf(ref), { force: true }); },
  };
}

// why: a rename is durable only once the directory entry itself is fsync'd.
async function syncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try { await fh.sync(); } finally { await fh.close(); }
}

/** True when the file of a reference exists with the recorded size. */
export async function blobExists(store: BlobStore, ref: FileRef): Promise<boolean> {
  const s = await stat(store.path(ref)).catch(() => undefined);
  return s?.size === ref.size;
}
