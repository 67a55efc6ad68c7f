import { createHash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { StudyhookError } from '../errors.js';
import { Reclaimer } from '../util/reclaim.js';
import type { ByteBudget } from './blob-file.js';

/**
 * Passes bytes through while it counts and hashes them (sha256) against a byte budget; over the
 * budget it fails with SH_BLOB_TOO_LARGE. `sha256` is set once the last byte went through.
 */
export class HashCounter extends Transform {
  /** Bytes passed so far. */
  bytes = 0;
  sha256 = '';
  private readonly hash = createHash('sha256');
  private readonly reclaim = new Reclaimer();

  constructor(private readonly budget: ByteBudget) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.bytes += chunk.length;
    this.budget.left -= chunk.length;
    if (this.budget.left < 0) {
      done(
        new StudyhookError('SH_BLOB_TOO_LARGE', `File is larger than ${this.budget.total} bytes`),
      );
      return;
    }
    this.hash.update(chunk);
    this.reclaim.add(chunk.length);
    done(null, chunk);
  }

  override _flush(done: TransformCallback): void {
    this.sha256 = this.hash.digest('hex');
    done();
  }
}
