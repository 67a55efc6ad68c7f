import type { IncomingMessage } from 'node:http';
import { StudyhookError } from '../errors.js';

/** Reads the raw body once, refusing more than `limit` bytes (by Content-Length up front, else while reading). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(new StudyhookError('SH_BODY_TOO_LARGE', `Body of ${declared} bytes is over this route's limit of ${limit} bytes`));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume();
        reject(new StudyhookError('SH_BODY_TOO_LARGE', `Body is over this route's limit of ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.on('error', (err) => reject(new StudyhookError('SH_BAD_BODY', 'The request body was cut off', { cause: err })));
  });
}
