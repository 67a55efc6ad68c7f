import type { IncomingMessage } from 'node:http';
import busboy from 'busboy';
import type { MultipartBody } from '../adapter/types.js';
import { budgetOf, type BlobStore, type FileRef } from '../blobs/blob-store.js';
import { StudyhookError } from '../errors.js';
import type { SchemaProblem } from '../schemas.js';

/** What one multipart request may carry. Over any of it: 413 (408 for a stall), and nothing is kept. */
export interface MultipartLimits {
  /** Bytes of all files together (the route's budget). */
  fileBytes: number;
  /** File parts written at most; an upload carries one, so any more is kept for inspection, not published. */
  files: number;
  /** Text fields, their largest value, and all their names and values together, in bytes. */
  fields: number;
  fieldBytes: number;
  fieldsTotalBytes: number;
  /** No byte from the client for this long: 408. There is no bound on the total time. */
  stallMs: number;
}

/**
 * The text fields of an upload: Labvanced's player sends two short ones (`expSessionNr`,
 * `newFileName`, a file name of a few dozen bytes). 16 fields of at most 4 KiB and 16 KiB in all
 * leave room for a player that adds a few, while a request can no longer move megabytes into Redis
 * as fields (100 fields of 1 MiB each were accepted until this limit).
 */
export const UPLOAD_FIELDS = { fields: 16, fieldBytes: 4096, fieldsTotalBytes: 16384 } as const;

/** A parsed upload: its body, every file written for it, and what makes it unfit to publish. */
export interface ParsedUpload {
  /** Fields and files by name (null-prototype objects: `__proto__` is a name like any other); the first of a repeated name. */
  body: MultipartBody;
  /** Every file written for this request, in order; the caller owns them (publish, quarantine or remove). */
  stored: FileRef[];
  /** A second file, a repeated field, a part without a name: such a request is kept in quarantine, not published. */
  problems: SchemaProblem[];
}

const cutOff = (): StudyhookError => new StudyhookError('SH_BAD_BODY', 'The upload was cut off');
const tooLarge = (message: string): StudyhookError =>
  new StudyhookError('SH_BODY_TOO_LARGE', message);

/**
 * Streams a multipart body: fields into memory (bounded), each file straight to the blob store
 * (hashed, fsync'd, never buffered whole). Every stream involved has its errors handled from the
 * moment it exists. On any failure, the files already written are removed before it rejects.
 */
export function parseMultipart(
  req: IncomingMessage,
  blobs: BlobStore,
  limits: MultipartLimits,
): Promise<ParsedUpload> {
  return new Promise((resolve, reject) => {
    let bb: busboy.Busboy;
    try {
      // why: 512 KiB buffers (not 16 KiB) keep the socket flowing while the blob store's write is in flight.
      // why +1: busboy flags a field of exactly fieldSize bytes as truncated, and signals partsLimit on the last allowed part.
      bb = busboy({
        headers: req.headers,
        highWaterMark: 512 * 1024,
        fileHwm: 512 * 1024,
        limits: {
          files: limits.files,
          fields: limits.fields,
          fieldSize: limits.fieldBytes + 1,
          parts: limits.files + limits.fields + 1,
        },
      });
    } catch (err) {
      reject(new StudyhookError('SH_BAD_BODY', `Bad multipart body: ${(err as Error).message}`));
      return;
    }
    // why: keyed by the sender's part names: with no prototype, a part named `__proto__` is a field like any other
    // (an assignment would replace the prototype, and the file would escape the clean-up below).
    const fields = Object.create(null) as Record<string, string>;
    const files = Object.create(null) as Record<string, FileRef>;
    const stored: FileRef[] = [];
    const problems: SchemaProblem[] = [];
    const writes: Promise<void>[] = [];
    const budget = budgetOf(limits.fileBytes);
    let fieldBytes = 0;
    let fileParts = 0;
    let failure: unknown;

    // why: once parsing stops, busboy is destroyed (which fails the open file stream, so its blob is
    // removed) and the rest of the body is read and dropped, so the error reply can still reach the client.
    const fail = (err: unknown): void => {
      if (failure !== undefined) return;
      failure = err;
      clearTimeout(stall);
      req.unpipe(bb);
      bb.destroy();
      req.resume();
    };
    const stall = setTimeout(function check() {
      // why: a request paused by our own back-pressure (a slow disk) is not stalled by the client.
      if (req.readableFlowing === false || req.readableLength > 0) {
        stall.refresh();
        return;
      }
      fail(
        new StudyhookError('SH_REQUEST_TIMEOUT', `No bytes arrived for ${limits.stallMs} ms`, {
          headers: { Connection: 'close' },
        }),
      );
    }, limits.stallMs);

    bb.on('field', (name: string | undefined, value: string | undefined, info) => {
      // why: busboy hands over no value (undefined, despite its types) for a part whose own
      // `Content-Type: ...; charset=` names a charset TextDecoder does not know; reading its length
      // threw inside busboy's write, past every handler, and one such 300-byte request ended the process.
      if (typeof value !== 'string') {
        fail(
          new StudyhookError(
            'SH_BAD_BODY',
            `Bad multipart body: field ${name ?? ''} is in a charset that cannot be read`,
          ),
        );
        return;
      }
      fieldBytes += Buffer.byteLength(name ?? '') + Buffer.byteLength(value);
      if (info.valueTruncated)
        fail(tooLarge(`Field ${name ?? ''} is over ${limits.fieldBytes} bytes`));
      else if (fieldBytes > limits.fieldsTotalBytes)
        fail(tooLarge(`Fields are over ${limits.fieldsTotalBytes} bytes in all`));
      else if (name === undefined) {
        problems.push({ path: '/fields', message: 'a field has no name' });
        fields[''] ??= value;
      } else if (name in fields)
        problems.push({ path: `/fields/${name}`, message: 'is sent more than once' });
      else fields[name] = value;
    });
    bb.on('file', (name: string | undefined, stream, info) => {
      const key = name ?? '';
      if (name === undefined) problems.push({ path: '/files', message: 'a file has no name' });
      if (++fileParts > 1)
        problems.push({
          path: `/files/${key}`,
          message: 'is a second file: an upload carries one file',
        });
      const ref = blobs.put(stream, {
        name: info.filename ?? key,
        contentType: info.mimeType || 'application/octet-stream',
        budget,
      });
      writes.push(
        ref.then(
          (r) => {
            stored.push(r);
            if (!(key in files)) files[key] = r;
          },
          (err: unknown) => {
            fail(err);
          },
        ),
      );
    });
    bb.on('filesLimit', () => fail(tooLarge(`More than ${limits.files} files`)));
    bb.on('fieldsLimit', () => fail(tooLarge(`More than ${limits.fields} fields`)));
    bb.on('partsLimit', () => fail(tooLarge(`More than ${limits.files + limits.fields} parts`)));
    bb.on('error', (err: Error) =>
      fail(new StudyhookError('SH_BAD_BODY', `Bad multipart body: ${err.message}`)),
    );
    // why: busboy closes after it finished or was destroyed; the files' writes may still be settling either way.
    bb.on('close', () => {
      clearTimeout(stall);
      void Promise.allSettled(writes).then(async () => {
        if (failure === undefined) {
          resolve({ body: { fields, files }, stored, problems });
          return;
        }
        await Promise.allSettled(stored.map((f) => blobs.remove(f)));
        reject(failure);
      });
    });
    req.on('data', () => {
      stall.refresh();
    });
    req.on('end', () => {
      clearTimeout(stall);
    });
    req.on('error', () => fail(cutOff()));
    req.on('close', () => {
      if (!req.complete) fail(cutOff());
    });
    req.pipe(bb);
  });
}
