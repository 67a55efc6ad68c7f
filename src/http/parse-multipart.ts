import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import type { MultipartBody } from '../adapter/types.js';
import type { BlobStore, FileRef } from '../blobs/blob-store.js';
import { StudyhookError } from '../errors.js';

export interface MultipartLimits { fileBytes: number; files: number; fields: number; fieldBytes: number }

/**
 * Streams a multipart body: fields into memory (bounded), each file straight to the blob store
 * (hashed, fsync'd, never buffered whole). On any error, files already written are removed.
 */
export function parseMultipart(req: IncomingMessage, blobs: BlobStore, limits: MultipartLimits): Promise<MultipartBody> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      // why: 512 KiB buffers (not 16 KiB) keep the socket flowing while the blob store's write is in flight.
      bb = busboy({ headers: req.headers, highWaterMark: 512 * 1024, fileHwm: 512 * 1024, limits: { files: limits.files, fields: limits.fields, fieldSize: limits.fieldBytes, parts: limits.files + limits.fields } });
    } catch (err) {
      reject(new StudyhookError('SH_BAD_BODY', `Bad multipart body: ${(err as Error).message}`));
      return;
    }
    // why: keyed by the sender's part names: with no prototype, a part named `__proto__` is a field like any other
    // (an assignment would replace the prototype, and the file would escape the clean-up below).
    const fields = Object.create(null) as Record<string, string>;
    const files = Object.create(null) as Record<string, FileRef>;
    const writes: Promise<void>[] = [];
    const open = new Set<NodeJS.ReadableStream & { destroy(err?: Error): void }>();
    let failure: unknown;
    let received = false;
    // why: once the request is unpiped an open file stream never ends; destroying it lets the blob store remove its partial file.
    // A destroyed file stream also keeps busboy from ever closing, so when the request has already been
    // read in full (a small body arrives before the blob store refuses it), nothing else would answer.
    const fail = (err: unknown): void => {
      failure ??= err;
      req.unpipe(bb);
      req.resume();
      for (const s of open) s.destroy(err as Error);
      if (received) void finish();
    };
    bb.on('field', (name, value, info) => {
      if (info.valueTruncated) fail(new StudyhookError('SH_BODY_TOO_LARGE', `Field ${name} is over ${limits.fieldBytes} bytes`));
      else fields[name] = value;
    });
    bb.on('file', (name, stream, info) => {
      open.add(stream);
      stream.once('close', () => open.delete(stream));
      writes.push(blobs.put(stream, { name: info.filename ?? name, contentType: info.mimeType || 'application/octet-stream', maxBytes: limits.fileBytes })
        .then((ref) => { files[name] = ref; })
        .catch((err: unknown) => { stream.resume(); fail(err); }));
    });
    bb.on('filesLimit', () => fail(new StudyhookError('SH_BODY_TOO_LARGE', `More than ${limits.files} files`)));
    bb.on('partsLimit', () => fail(new StudyhookError('SH_BODY_TOO_LARGE', `More than ${limits.files + limits.fields} parts`)));
    bb.on('fieldsLimit', () => fail(new StudyhookError('SH_BODY_TOO_LARGE', `More than ${limits.fields} fields`)));
    bb.on('error', (err) => fail(new StudyhookError('SH_BAD_BODY', `Bad multipart body: ${(err as Error).message}`)));
    let finished = false;
    const finish = async (): Promise<void> => {
      if (finished) return;
      finished = true;
      await Promise.allSettled(writes);
      if (failure) {
        await Promise.all(Object.values(files).map((f) => blobs.remove(f)));
        reject(failure);
      } else resolve({ fields, files });
    };
    bb.on('close', () => void finish());
    req.on('aborted', () => fail(new StudyhookError('SH_BAD_BODY', 'The upload was cut off')));
    req.on('close', () => { received = true; if (failure) void finish(); });
    req.pipe(bb);
  });
}
