import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { PartBudget } from './part-budget.js';

/** Where an upload goes. */
export interface UploadTarget {
  Bucket: string;
  Key: string;
  ContentType?: string;
}

// why kept between uploads: by the end of an upload its part buffers are in V8's old generation,
// freed only by a major GC, which may not come before the next upload; that upload then allocated
// its own beside them, and held both sets resident at its peak.
const spare = new Map<number, Buffer[]>();

/**
 * Sends a stream to S3: a file of at most one part with one PutObject, a larger one as a multipart
 * upload with at most `queueSize` parts in flight. Each byte is copied once, into one of at most
 * queueSize + 1 part buffers that are reused from part to part (the ones beyond the first only
 * while `budget` has room for them), so the upload holds at most (queueSize + 1) × partSize bytes
 * and allocates nothing per part for the garbage collector to catch up with
 * (lib-storage concatenates every part into a new buffer); up to queueSize + 1 of them are kept for
 * the next upload of that part size (see `spare`). Reading pauses while every buffer is
 * taken. Resolves once S3 answered CompleteMultipartUpload (or the PutObject). On any failure it
 * waits for the parts in flight, aborts the multipart upload, deletes the object if the last
 * request was sent (its answer may have been lost after S3 made it), destroys the source with the
 * error and rejects with it.
 */
export async function uploadStream(
  client: S3Client,
  target: UploadTarget,
  source: Readable,
  partSize: number,
  queueSize: number,
  budget: PartBudget,
): Promise<void> {
  const free: Buffer[] = [];
  const held: Buffer[] = [];
  let extra = 0;
  const inFlight = new Set<Promise<void>>();
  const parts: CompletedPart[] = [];
  let uploadId: string | undefined;
  let partCount = 0;
  let failure: { err: unknown } | undefined;
  let buf: Buffer | undefined;
  let filled = 0;
  let taking: Promise<void> = Promise.resolve();
  let finishing = false;

  const sendPart = async (data: Buffer, whole: Buffer): Promise<void> => {
    uploadId ??= (await client.send(new CreateMultipartUploadCommand(target))).UploadId;
    while (inFlight.size >= queueSize) await Promise.race(inFlight);
    // why checked after the waits: the upload may have failed (and be aborting) meanwhile.
    if (failure) throw failure.err;
    const PartNumber = ++partCount;
    const sent: Promise<void> = client
      .send(
        new UploadPartCommand({
          Bucket: target.Bucket,
          Key: target.Key,
          UploadId: uploadId,
          PartNumber,
          Body: data,
          ContentLength: data.length,
        }),
      )
      .then(
        (r) => void parts.push({ PartNumber, ETag: r.ETag }),
        (err: unknown) => void (failure ??= { err }),
      )
      .finally(() => {
        inFlight.delete(sent);
        free.push(whole);
      });
    inFlight.add(sent);
  };

  // why the first buffer without the budget, the others with it: see PartBudget.
  const nextBuffer = async (): Promise<Buffer> => {
    for (;;) {
      if (failure) throw failure.err;
      const back = free.pop();
      if (back) return back;
      const first = held.length === 0;
      if (first || (held.length <= queueSize && budget.take(partSize))) {
        if (!first) extra += partSize;
        const b = spare.get(partSize)?.pop() ?? Buffer.allocUnsafeSlow(partSize);
        held.push(b);
        return b;
      }
      // why a part in flight is always there to wait for: free is empty, so each held buffer is one.
      budget.waiting += 1;
      try {
        if (held.length > queueSize) await Promise.race(inFlight);
        else await budget.freedOr(inFlight);
      } finally {
        budget.waiting -= 1;
      }
    }
  };

  const take = async (chunk: Buffer): Promise<void> => {
    for (let at = 0; at < chunk.length;) {
      if (failure) throw failure.err;
      // why sent only when more bytes come: a file of exactly one part is then one PutObject.
      if (buf && filled === partSize) {
        await sendPart(buf, buf);
        buf = undefined;
      }
      if (!buf) {
        buf = await nextBuffer();
        filled = 0;
      }
      const n = chunk.copy(buf, filled, at);
      filled += n;
      at += n;
    }
  };

  try {
    // why piped into a Writable, not read with `for await`: Readable's iterator calls read(), which
    // joins every chunk buffered by then into a new Buffer, one more copy of those bytes.
    await pipeline(
      source,
      new Writable({
        write: (chunk: Buffer, _enc, done) => {
          taking = take(chunk);
          taking.then(() => done(), done);
        },
      }),
    );
    const last = buf ? buf.subarray(0, filled) : Buffer.alloc(0);
    if (uploadId === undefined) {
      finishing = true;
      await client.send(
        new PutObjectCommand({ ...target, Body: last, ContentLength: last.length }),
      );
      return;
    }
    await sendPart(last, buf!);
    await Promise.all(inFlight);
    if (failure) throw failure.err;
    parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
    finishing = true;
    await client.send(
      new CompleteMultipartUploadCommand({
        Bucket: target.Bucket,
        Key: target.Key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
  } catch (err) {
    failure ??= { err };
    source.destroy(err as Error);
    // why wait for the chunk being taken: a source that fails while it waits (for
    // CreateMultipartUpload, or a free buffer) rejects the pipeline at once; the upload it may
    // still create, or a part it may still send, would outlive the abort below.
    await taking.catch(() => undefined);
    // why wait: a part that lands after AbortMultipartUpload would be kept (and billed) by S3.
    await Promise.allSettled(inFlight);
    if (uploadId !== undefined)
      await client
        .send(
          new AbortMultipartUploadCommand({
            Bucket: target.Bucket,
            Key: target.Key,
            UploadId: uploadId,
          }),
        )
        .catch(() => undefined);
    // why: S3 may have made the object although its answer was lost (the SDK's retry then fails,
    // e.g. NoSuchUpload): the caller is told it failed, so the object is not kept. The key is ours alone.
    if (finishing)
      await client
        .send(new DeleteObjectCommand({ Bucket: target.Bucket, Key: target.Key }))
        .catch(() => undefined);
    throw err;
  } finally {
    // why only here: every part has settled by now, so no request still reads from these buffers.
    const kept = spare.get(partSize) ?? [];
    kept.push(...held.slice(0, Math.max(0, queueSize + 1 - kept.length)));
    spare.set(partSize, kept);
    budget.give(extra);
  }
}
