import type { IncomingMessage } from 'node:http';
import { StudyhookError } from '../errors.js';

/**
 * Reads the raw body once, refusing more than `limit` bytes (by Content-Length up front, else while
 * reading) and a body that has not arrived `timeoutMs` after this call (408, through the error reply,
 * so a browser can read it; the connection is closed after it). `take`, when given, is asked for
 * every chunk's bytes before it is kept; when it refuses, the request is answered 503 `SH_BUSY`
 * (`server.maxBodyBytesInFlight`: other requests' bodies hold the process's budget).
 */
export function readBody(
  req: IncomingMessage,
  limit: number,
  timeoutMs: number,
  take?: (bytes: number) => boolean,
): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.reject(
      new StudyhookError(
        'SH_BODY_TOO_LARGE',
        `Body of ${declared} bytes is over this route's limit of ${limit} bytes`,
      ),
    );
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (err: StudyhookError): void => {
      clearTimeout(timer);
      req.removeAllListeners('data');
      req.resume();
      reject(err);
    };
    const timer = setTimeout(
      () =>
        stop(
          new StudyhookError(
            'SH_REQUEST_TIMEOUT',
            `The body did not arrive within ${timeoutMs} ms`,
            { headers: { Connection: 'close' } },
          ),
        ),
      timeoutMs,
    );
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        stop(
          new StudyhookError(
            'SH_BODY_TOO_LARGE',
            `Body is over this route's limit of ${limit} bytes`,
          ),
        );
        return;
      }
      if (take && !take(chunk.length)) {
        stop(
          new StudyhookError(
            'SH_BUSY',
            'Other requests hold server.maxBodyBytesInFlight; retry in a moment',
            // why: the rest of the body is not wanted; the connection goes with the reply.
            { headers: { 'Retry-After': '1', Connection: 'close' } },
          ),
        );
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      clearTimeout(timer);
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on('error', (err) => {
      clearTimeout(timer);
      reject(new StudyhookError('SH_BAD_BODY', 'The request body was cut off', { cause: err }));
    });
  });
}
