// The upload part of `npm run bench`: raw, raw + fsync, the floor (busboy + sha256 + fsync) and studyhook's /file_upload, alternating.
import { readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort, median, nodeTs, start, waitForPort, type Proc } from './procs.js';
import type { Results } from './report.js';
import { uploadRoute } from './scenarios.js';
import { available, startStudyhook } from './studyhook.js';
import { upload, type UploadResult } from './upload.js';

export interface UploadRunOptions {
  config: string;
  env: Record<string, string>;
  work: string;
  reps: number;
  uploadMb: number;
  log: (msg: string) => void;
}

/**
 * Round `i`'s order of `n` kinds, a Williams design (0, 1, n-1, 2, n-2, ... shifted by i): over n
 * rounds, for even n, each kind runs right after each other kind once. why: in a fixed order one
 * upload always follows the same one, and of two builds uploading one after the other the second was
 * faster every time this session, by 1.07-1.53x (an A/B with the order swapped each round).
 */
function roundOrder(n: number, i: number): number[] {
  const first = [0];
  for (let k = 1; first.length < n; k++) {
    first.push(k);
    if (first.length < n) first.push(n - k);
  }
  return first.map((x) => (x + i) % n);
}

/** One server per upload kind, each upload alternating between them `reps` times (medians), so a disk that slows down later in the run slows all four; the order changes every round ({@link roundOrder}). */
export async function uploads(o: UploadRunOptions): Promise<Results['upload']> {
  const { config, env, work, log } = o;
  const bytes = o.uploadMb * 1024 * 1024;
  const server = async (
    file: string,
    extra: Record<string, string> = {},
  ): Promise<{ port: number; proc: Proc }> => {
    const port = await freePort();
    const proc = start(nodeTs(`bench/servers/${file}`), { ...env, ...extra, PORT: String(port) });
    await waitForPort(port, proc);
    return { port, proc };
  };
  const raw = await server('raw-upload.ts', { BENCH_RAW_FSYNC: '0' });
  const rawSync = await server('raw-upload.ts', { BENCH_RAW_FSYNC: '1' });
  const floor = await server('floor-upload.ts');
  const sh = available(uploadRoute.platform)
    ? await startStudyhook(config, { apis: 1, workers: 0, env })
    : undefined;
  const runs: {
    raw: UploadResult[];
    rawFsync: UploadResult[];
    floor: UploadResult[];
    studyhook: UploadResult[];
  } = { raw: [], rawFsync: [], floor: [], studyhook: [] };
  const form = {
    field: uploadRoute.field,
    fields: { expSessionNr: '4711', newFileName: 'bench.bin' },
  };
  const kinds: Array<[keyof typeof runs, () => Promise<UploadResult>]> = [
    ['raw', () => upload({ port: raw.port, path: '/', bytes, server: raw.proc })],
    ['rawFsync', () => upload({ port: rawSync.port, path: '/', bytes, server: rawSync.proc })],
    [
      'floor',
      () => upload({ port: floor.port, path: '/', bytes, server: floor.proc, multipart: form }),
    ],
  ];
  if (sh)
    kinds.push([
      'studyhook',
      () =>
        upload({
          port: sh.ports[0]!,
          path: uploadRoute.path,
          bytes,
          server: sh.apis[0]!,
          multipart: form,
        }),
    ]);
  try {
    for (let i = 0; i < o.reps; i++) {
      for (const k of roundOrder(kinds.length, i)) {
        const [kind, run] = kinds[k]!;
        runs[kind].push(await run());
        await cleanUploads(work);
        await rm(join(work, 'data', 'blobs'), { recursive: true, force: true });
      }
    }
  } finally {
    await Promise.all([raw.proc.stop(), rawSync.proc.stop(), floor.proc.stop(), sh?.stop()]);
  }
  const mid = (xs: UploadResult[]): UploadResult | undefined =>
    xs.length === 0
      ? undefined
      : {
          ...xs[0]!,
          mbPerSec: median(xs.map((x) => x.mbPerSec)),
          seconds: median(xs.map((x) => x.seconds)),
          peakRssMb: Math.max(...xs.map((x) => x.peakRssMb)),
          reps: xs.map((x) => Math.round(x.mbPerSec)),
        };
  const out = {
    mb: o.uploadMb,
    raw: mid(runs.raw)!,
    rawFsync: mid(runs.rawFsync)!,
    floor: mid(runs.floor)!,
    studyhook: mid(runs.studyhook),
  };
  for (const [k, v] of Object.entries(out))
    if (typeof v === 'object' && v)
      log(
        `upload ${k}: ${v.mbPerSec.toFixed(0)} MB/s (reps ${v.reps?.join(', ')}), peak RSS ${v.peakRssMb.toFixed(0)} MB (idle ${v.idleRssMb.toFixed(0)} MB, HTTP ${v.status})`,
      );
  return out;
}

/** Removes the raw servers' files from the bench's work folder. */
export async function cleanUploads(work: string): Promise<void> {
  for (const f of await readdir(work))
    if (f.startsWith('raw-')) await rm(join(work, f), { force: true });
}
