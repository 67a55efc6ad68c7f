import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FileRef } from '../generated/file-ref.js';
import type { Logger } from '../log/logger.js';
import { DEFAULT_FILE_MODE, dirModeOf } from '../util/append-line.js';
import { BlobFile, type ByteBudget } from './blob-file.js';

export type { FileRef };
export type { ByteBudget };

/** A byte range of a file, both ends included (as `fs.createReadStream`'s `start` and `end`). */
export interface ByteRange {
  start: number;
  end: number;
}

/**
 * Where files live: the local filesystem or an S3-compatible bucket. Only references
 * ({@link FileRef}) travel through Redis, never the bytes. A reference's `uri` is `blob:<id>` on the
 * filesystem and `s3://<bucket>/<key>` in a bucket.
 */
export interface BlobStore {
  /**
   * Streams `source` into the store (hashing as it goes), makes it durable, and returns its
   * reference. It handles `source`'s errors from the moment it is called (nothing is awaited first),
   * so a source that fails at once cannot crash the process. On any failure, or over `maxBytes` (or
   * the shared `budget`), nothing is left behind.
   */
  put(
    source: Readable,
    meta: { name: string; contentType: string; maxBytes?: number; budget?: ByteBudget },
  ): Promise<FileRef>;
  /** Streams a stored file, or a byte range of it; a missing file is an error on the stream. */
  open(ref: FileRef | string, range?: ByteRange): Readable;
  /** True when the file exists with the size its reference records. */
  exists(ref: FileRef): Promise<boolean>;
  remove(ref: FileRef | string): Promise<void>;
  /** Where a file is, for people and tools: an absolute path, or `s3://<bucket>/<key>`. */
  location(ref: FileRef | string): string;
}

/** The filesystem store, which can also name a file's path (tests and local tools). */
export interface FsBlobStore extends BlobStore {
  /** Absolute path of a stored file. */
  path(ref: FileRef | string): string;
}

/** True for a reference a blob store made (`blob:<id>`, `s3://…`), e.g. an event's `dataref`. */
export function isBlobUri(uri: string): boolean {
  return uri.startsWith('blob:') || uri.startsWith('s3://');
}

const ID = /^[0-9a-f-]{36}$/;
/** Partial files are `<id>.<owner>.part` in one directory, so a sweep reads that directory only. */
const INCOMING = 'incoming';
const PART = /^[0-9a-f-]{36}\.(.+)-(\d+)\.part$/;

// why: the same owner tag as the spool's journals, so a file's writer can be told alive or gone.
const owner = (): string => `${hostname().replace(/[^A-Za-z0-9_.-]/g, '_')}-${process.pid}`;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A blob store on the local filesystem: `<dir>/<id[0..2]>/<id>`, written to `<dir>/incoming/` and renamed after fsync. */
export function createBlobStore(dir: string, fileMode = DEFAULT_FILE_MODE): FsBlobStore {
  const pathOf = (ref: FileRef | string): string => {
    const id = typeof ref === 'string' ? ref.replace(/^blob:/, '') : ref.id;
    if (!ID.test(id)) throw new Error(`not a blob id: ${id}`);
    return join(dir, id.slice(0, 2), id);
  };
  const incoming = join(dir, INCOMING);
  const tag = owner();
  return {
    put(source, meta) {
      const id = randomUUID();
      const temp = join(incoming, `${id}.${tag}.part`);
      const file = new BlobFile(
        temp,
        meta.budget ?? budgetOf(meta.maxBytes ?? Number.POSITIVE_INFINITY),
        fileMode,
      );
      // why: attached before anything is awaited: a source destroyed meanwhile (busboy at the end of a
      // cut-off form) would otherwise emit 'error' with no listener and take the process down.
      const written = pipeline(source, file);
      return finishPut(written, file, temp, pathOf(id), dirModeOf(fileMode)).then(() => ({
        id,
        name: meta.name,
        contentType: meta.contentType,
        size: file.size,
        sha256: file.sha256,
        uri: `blob:${id}`,
      }));
    },
    open: (ref, range) => createReadStream(pathOf(ref), range ?? {}),
    path: pathOf,
    location: pathOf,
    async exists(ref) {
      return (await stat(pathOf(ref)).catch(() => undefined))?.size === ref.size;
    },
    async remove(ref) {
      await rm(pathOf(ref), { force: true });
    },
  };
}

/** Removes the files of a request that failed; a file that cannot be removed is logged, not thrown. */
export async function removeBlobs(
  store: BlobStore,
  refs: readonly FileRef[],
  logger: Pick<Logger, 'warn'>,
): Promise<void> {
  await Promise.all(
    refs.map((ref) =>
      store.remove(ref).catch((err: unknown) => {
        logger.warn({ blob: ref.id, err }, 'could not remove the file of a failed upload');
      }),
    ),
  );
}

/** A byte budget of `total` bytes, to share between the files of one request. */
export function budgetOf(total: number): ByteBudget {
  return { total, left: total };
}

/**
 * Removes the partial files left by writers that are gone: dead processes on this host, or this
 * process's predecessor (containers run as pid 1 every time). Other hosts' files are left alone.
 * Run at start, before any upload; returns the names removed.
 */
export async function sweepPartialBlobs(dir: string): Promise<string[]> {
  const incoming = join(dir, INCOMING);
  const names = await readdir(incoming).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  const tag = owner();
  const host = tag.slice(0, tag.lastIndexOf('-'));
  const gone = names.filter((n) => {
    const m = PART.exec(n);
    return m !== null && m[1] === host && (Number(m[2]) === process.pid || !alive(Number(m[2])));
  });
  await Promise.all(gone.map((n) => rm(join(incoming, n), { force: true })));
  return gone;
}

async function finishPut(
  written: Promise<void>,
  file: BlobFile,
  temp: string,
  final: string,
  dirMode: number,
): Promise<void> {
  try {
    await written;
    await mkdir(join(final, '..'), { recursive: true, mode: dirMode });
    await rename(temp, final);
    await syncDir(join(final, '..'));
  } catch (err) {
    // why: the file may still be opening when the source fails; remove it only once it is closed.
    if (!file.closed) await new Promise((resolve) => file.once('close', resolve));
    await rm(temp, { force: true });
    throw err;
  }
}

// why: a rename is durable only once the directory entry itself is fsync'd.
async function syncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
