// The upload row of `npm run bench -- --cluster`: `--upload-mb` MiB through /labvanced/<ns>/file_upload
// into S3, against a raw streaming PutObject of the same bytes to the same S3 server, and the two
// multipart uploads alone (lib-storage, and the store's own s3-multipart.ts); in rounds, each path
// once per round in the same order, so that every round pairs them under the same machine load.
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { Readable } from 'node:stream';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { S3_TEST_ENV } from '../scripts/s3-server.js';
import { createS3Client } from '../src/blobs/s3-blob-store.js';
import { PartBudget } from '../src/blobs/part-budget.js';
import { uploadStream } from '../src/blobs/s3-multipart.js';
import { freePort, median, memory, sleep, start, waitForPort } from './procs.js';
import { cliArgs } from './studyhook.js';
import { upload } from './upload.js';

const MB = 1024 * 1024;
export const PATHS = ['rawPut', 'libStorage', 's3Multipart', 'studyhook'] as const;
export type UploadPath = (typeof PATHS)[number];

export interface UploadRow {
  partSizeMb: number;
  queueSize: number;
  /** MB/s of each path in each round; `load` is the 1-minute load average when the round began. */
  rounds: (Record<UploadPath, number> & { load: number })[];
  /** The median over the rounds of each path's MB/s, and of its ratio to the raw PUT of its round. */
  mbPerSec: Record<UploadPath, number>;
  vsRawPut: Record<UploadPath, number>;
  /** The API process's resident memory before the first upload, and its peak over all of them. */
  idleRssMb: number;
  peakRssMb: number;
}

/** `bytes` of random data (1 MiB repeated, as bench/upload.ts sends) as a stream. */
function body(bytes: number, chunk: Buffer): Readable {
  let left = bytes;
  return new Readable({
    read() {
      const n = Math.min(left, MB);
      left -= n;
      this.push(n === 0 ? null : n === MB ? chunk : chunk.subarray(0, n));
    },
  });
}

export async function uploadRounds(o: {
  uploadMb: number;
  rounds: number;
  config: string;
  endpoint: string;
  bucket: string;
  partSizeMb: number;
  queueSize: number;
  run: string;
  log: (m: string) => void;
}): Promise<UploadRow> {
  const bytes = o.uploadMb * MB;
  Object.assign(process.env, S3_TEST_ENV);
  // why the store's client for every path: the same checksum and signing settings on each.
  const client = createS3Client({
    endpoint: o.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
  });
  const chunk = randomBytes(MB);
  const partSize = o.partSizeMb * MB;
  const port = await freePort();
  const api = start([...cliArgs(), 'api', '--config', o.config], {
    ...S3_TEST_ENV,
    PORT: String(port),
  });
  const rounds: UploadRow['rounds'] = [];
  let peakRssMb = 0;
  let idleRssMb: number;
  try {
    await waitForPort(port, api);
    await sleep(1000);
    idleRssMb = memory(api.pid).rss;
    for (let r = 0; r < o.rounds; r++) {
      const load = loadavg()[0]!;
      const timed = async (send: () => Promise<unknown>): Promise<number> => {
        const t0 = performance.now();
        await send();
        return bytes / 1e6 / ((performance.now() - t0) / 1000);
      };
      const key = (path: string): string => `${path}-${o.run}-${r}`;
      const round = { load } as UploadRow['rounds'][number];
      round.rawPut = await timed(() =>
        client.send(
          new PutObjectCommand({
            Bucket: o.bucket,
            Key: key('raw'),
            Body: body(bytes, chunk),
            ContentLength: bytes,
          }),
        ),
      );
      round.libStorage = await timed(() =>
        new Upload({
          client,
          partSize,
          queueSize: o.queueSize,
          params: { Bucket: o.bucket, Key: key('lib-storage'), Body: body(bytes, chunk) },
        }).done(),
      );
      round.s3Multipart = await timed(() =>
        uploadStream(
          client,
          { Bucket: o.bucket, Key: key('multipart') },
          body(bytes, chunk),
          partSize,
          o.queueSize,
          new PartBudget(o.queueSize * partSize),
        ),
      );
      const s = await upload({
        port,
        path: '/labvanced/bench/file_upload',
        bytes,
        server: api,
        multipart: { field: 'myFile', fields: { expSessionNr: '1', newFileName: 'bench.bin' } },
      });
      if (s.status !== 200) throw new Error(`upload answered ${s.status}: ${api.output()}`);
      round.studyhook = s.mbPerSec;
      peakRssMb = Math.max(peakRssMb, s.peakRssMb);
      rounds.push(round);
      o.log(
        `upload round ${r + 1} (load ${load.toFixed(2)}): ${PATHS.map((p) => `${p} ${round[p].toFixed(0)}`).join(', ')} MB/s; API peak RSS ${s.peakRssMb.toFixed(0)} MB`,
      );
    }
  } finally {
    client.destroy();
    await api.stop();
  }
  const of = (f: (round: UploadRow['rounds'][number], p: UploadPath) => number) =>
    Object.fromEntries(PATHS.map((p) => [p, median(rounds.map((x) => f(x, p)))])) as Record<
      UploadPath,
      number
    >;
  return {
    partSizeMb: o.partSizeMb,
    queueSize: o.queueSize,
    rounds,
    mbPerSec: of((x, p) => x[p]),
    vsRawPut: of((x, p) => x[p] / x.rawPut),
    idleRssMb,
    peakRssMb,
  };
}

/** The upload section of bench/results/cluster.md. */
export function uploadTable(u: UploadRow, uploadMb: number): string[] {
  const label: Record<UploadPath, string> = {
    rawPut: 'raw streaming PutObject to the same server (SDK, one request)',
    libStorage: `multipart upload alone, lib-storage (${u.partSizeMb} MiB parts, ${u.queueSize} at a time)`,
    s3Multipart: `multipart upload alone, the store's s3-multipart.ts (same parts)`,
    studyhook:
      'studyhook `/labvanced/<ns>/file_upload` → S3 (multipart, sha256, ack after CompleteMultipartUpload)',
  };
  return [
    `## Upload: ${uploadMb} MiB of random bytes into S3 (uncapped API process)`,
    '',
    `${u.rounds.length} rounds, each path once per round in this order; median MB/s, and the median of each round's ratio to that round's raw PUT.`,
    '',
    'The S3 server is s3rver (npm) on loopback with scripts/s3-server-store.ts: it md5s and writes each byte of a PUT or of a part once, and keeps a completed multipart upload as its part files and a manifest, as S3 and MinIO keep it (s3rver alone copied the parts into one file, a second write of every byte, which a PUT does not have). Every path below has the server write each byte once.',
    '',
    '| path | MB/s | vs raw PUT | rounds (MB/s) |',
    '|---|---:|---:|---|',
    ...PATHS.map(
      (p) =>
        `| ${label[p]} | ${u.mbPerSec[p].toFixed(0)} | ${u.vsRawPut[p].toFixed(2)}× | ${u.rounds.map((x) => x[p].toFixed(0)).join(', ')} |`,
    ),
    '',
    `API process (\`node dist/src/cli.js api\`, as \`studyhook\` runs): ${u.idleRssMb.toFixed(0)} MB resident before the first upload, peak ${u.peakRssMb.toFixed(0)} MB over all of them. Load average (1 min) at the start of each round: ${u.rounds.map((x) => x.load.toFixed(2)).join(', ')}.`,
    '',
  ];
}
