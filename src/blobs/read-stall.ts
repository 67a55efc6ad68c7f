import { Transform, type Readable } from 'node:stream';

/**
 * A pass-through for the body of a read from the store, which fails with a TimeoutError when the
 * store sends nothing for `ms` while the reader would take more.
 * why: the S3 client's own timeout ends at the response's headers, so that a reader's back-pressure
 * (a slow destination) is never taken for a stalled store; a store that stopped sending in the
 * middle of a body then held its reader (a sink's delivery) forever.
 * why "would take more": while `out`, the stream the reader reads, or this one is full, the reader
 * is the slow one and nothing is asked of the store.
 */
export function readStallGuard(ms: number, out: Readable): Transform {
  let timer: NodeJS.Timeout | undefined;
  const full = (s: Readable): boolean => s.readableLength >= s.readableHighWaterMark;
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      if (full(guard) || full(out)) return arm();
      const err = new Error(`the store sent nothing for ${ms} ms in the middle of a file`);
      err.name = 'TimeoutError';
      guard.destroy(err);
    }, ms);
  };
  const guard = new Transform({
    transform(chunk: Buffer, _enc, done) {
      arm();
      done(null, chunk);
    },
    flush(done) {
      clearTimeout(timer);
      done();
    },
    destroy(err, done) {
      clearTimeout(timer);
      done(err);
    },
  });
  arm();
  return guard;
}
