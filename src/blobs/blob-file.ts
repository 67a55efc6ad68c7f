import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';
import { StudyhookError } from '../errors.js';

/** Bytes the writer may hold while the disk catches up: enough to keep the socket flowing during one write. */
const BUFFER_BYTES = 2 * 1024 * 1024;
/** Dirty bytes after which a datasync starts in the background, so the final fsync has little left to flush. */
const SYNC_STEP_BYTES = 64 * 1024 * 1024;

/**
 * A file write that counts and hashes (sha256) as it goes, batches what arrived during the
 * previous write into one writev, flushes to disk in the background every 64 MiB, and
 * fsyncs on end: the file is durable when `finish` fires. Over `maxBytes` it fails with
 * SH_BLOB_TOO_LARGE.
 */
export class BlobFile extends Writable {
  size = 0;
  sha256 = '';
  private readonly hash = createHash('sha256');
  private dirty = 0;
  private syncing: Promise<void> | undefined;
  private syncError: Error | undefined;

  constructor(private readonly fh: FileHandle, private readonly maxBytes: number) {
    super({ highWaterMark: BUFFER_BYTES });
  }

  override _writev(chunks: { chunk: Buffer }[], done: (err?: Error | null) => void): void {
    const buffers = chunks.map((c) => c.chunk);
    const bytes = buffers.reduce((n, b) => n + b.length, 0);
    this.size += bytes;
    if (this.size > this.maxBytes) { done(new StudyhookError('SH_BLOB_TOO_LARGE', `File is larger than ${this.maxBytes} bytes`)); return; }
    this.dirty += bytes;
    // why: the write runs on libuv's threadpool; hashing the same bytes meanwhile overlaps the two.
    const written = this.fh.writev(buffers);
    for (const b of buffers) this.hash.update(b);
    written.then(() => {
      // why: one background flush at a time; writes go on meanwhile, so the disk works while bytes still arrive.
      if (this.dirty >= SYNC_STEP_BYTES && !this.syncing) {
        this.dirty = 0;
        this.syncing = this.fh.datasync().then(() => { this.syncing = undefined; }, (err: Error) => { this.syncError = err; });
      }
      done();
    }, (err: Error) => done(err));
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    this._writev([{ chunk }], done);
  }

  override _final(done: (err?: Error | null) => void): void {
    Promise.resolve(this.syncing)
      .then(() => { if (this.syncError) throw this.syncError; return this.fh.sync(); })
      .then(() => { this.sha256 = this.hash.digest('hex'); done(); }, (err: Error) => done(err));
  }
}
