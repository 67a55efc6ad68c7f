import { randomUUID } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FileRef } from '../generated/file-ref.js';
import { BlobFile } from './blob-file.js';

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
      const fh = await open(temp, 'w');
      const file = new BlobFile(fh, meta.maxBytes ?? Number.POSITIVE_INFINITY);
      try {
        try { await pipeline(source, file); } finally { await fh.close(); }
        await rename(temp, final);
        await syncDir(join(dir, id.slice(0, 2)));
      } catch (err) {
        await rm(temp, { force: true });
        throw err;
      }
      return { id, name: meta.name, contentType: meta.contentType, size: file.size, sha256: file.sha256, uri: `blob:${id}` };
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
