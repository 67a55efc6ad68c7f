import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import { memory, sleep, type Proc } from './procs.js';

export interface UploadResult {
  mbPerSec: number;
  seconds: number;
  peakRssMb: number;
  idleRssMb: number;
  status: number;
  reps?: number[];
}

// why: random bytes, like the compressed audio, video and archives labs upload. A repeated text
// sharing the boundary's own words (the earlier payload) is the worst case for busboy's
// Boyer-Moore-Horspool boundary search (about 2.3x its cost on random bytes here), a case no real
// file is in: browsers' boundaries are random.
const CHUNK = randomBytes(1024 * 1024);

/**
 * Streams `bytes` of generated data (raw, or as the `field` of a multipart form with `fields`) to a
 * server and samples its resident memory meanwhile; throughput counts the file bytes only.
 */
export async function upload(opts: {
  port: number;
  path: string;
  bytes: number;
  server: Proc;
  multipart?: { field: string; fields: Record<string, string> };
}): Promise<UploadResult> {
  const boundary = `----studyhook-bench-${Date.now()}`;
  const head = opts.multipart
    ? Object.entries(opts.multipart.fields)
        .map(
          ([k, v]) =>
            `--${boundary}\r\ncontent-disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`,
        )
        .join('') +
      `--${boundary}\r\ncontent-disposition: form-data; name="${opts.multipart.field}"; filename="bench.bin"\r\ncontent-type: application/octet-stream\r\n\r\n`
    : '';
  const tail = opts.multipart ? `\r\n--${boundary}--\r\n` : '';
  const headers = {
    'content-type': opts.multipart
      ? `multipart/form-data; boundary=${boundary}`
      : 'application/octet-stream',
    'content-length': String(Buffer.byteLength(head) + opts.bytes + Buffer.byteLength(tail)),
  };

  // why: the idle RSS (node + tsx + the app) is the floor; the peak minus it is what the upload itself costs.
  const idleRssMb = memory(opts.server.pid).rss;
  let peak = 0;
  const sampler = setInterval(() => {
    peak = Math.max(peak, memory(opts.server.pid).rss);
  }, 50);
  const t0 = process.hrtime.bigint();
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port: opts.port, path: opts.path, method: 'POST', headers },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    void (async () => {
      if (head) req.write(head);
      for (let left = opts.bytes; left > 0; left -= CHUNK.length) {
        const ok = req.write(left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left));
        if (!ok) await new Promise((r) => req.once('drain', r));
      }
      req.end(tail);
    })();
  });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  clearInterval(sampler);
  await sleep(50);
  const m = memory(opts.server.pid);
  return {
    mbPerSec: opts.bytes / 1e6 / seconds,
    seconds,
    peakRssMb: Math.max(peak, m.hwm),
    idleRssMb,
    status,
  };
}
