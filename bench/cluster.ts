// `npm run bench -- --cluster`: scale-out proven on real engines. 2 API + 2 worker processes on a
// local 3-primary Redis Cluster (each primary with a replica) with the S3 blob store, against 1 API
// + 1 worker on one Redis with the filesystem store, in the same run; every process capped at
// --scale-cpu cores (default 0.15: a cgroup, as bench/results/scale-capped.md) so that the 2-core
// machine has room for both. Plus the upload row: 1 GiB through /file_upload into S3 against a raw
// streaming PUT of the same bytes to the same S3 server. Writes bench/results/cluster.{md,json}.
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startRedisCluster } from '../scripts/redis-cluster.js';
import { S3_TEST_ENV } from '../scripts/s3-server.js';
import { openQueue } from '../src/queue/redis.js';
import { uploadRounds, uploadTable, type UploadRow } from './cluster-upload.js';
import { capCpu } from './cpu-cap.js';
import { freePort, load, median, nodeTs, root, sleep, start, waitForPort } from './procs.js';
import { startStudyhook } from './studyhook.js';

interface Setup {
  name: string;
  redisUrl: string;
  prefix: string;
  apis: number;
  workers: number;
  s3: boolean;
}
interface Row {
  name: string;
  rps: number;
  deliveredPerSec: number;
  reps: { rps: number; delivered: number }[];
  non2xx: number;
}
const SINKS = ['noop-a', 'noop-b', 'noop-c'];
const MB = 1024 * 1024;
// why 5 MiB × 4: the store's defaults (blobs.partSizeBytes, blobs.queueSize).
const PART_MB = 5;
const QUEUE = 4;

export async function clusterBench(o: {
  quick: boolean;
  duration: number;
  reps: number;
  connections: number;
  uploadMb: number;
  cpu: number;
  redisUrl: string;
  /** 'upload': only the upload row, printed and not written to bench/results. */
  only?: string | undefined;
  work: string;
  log: (m: string) => void;
}): Promise<void> {
  const run = randomUUID().slice(0, 8);
  await mkdir(o.work, { recursive: true });
  const s3Port = await freePort();
  const s3 = start(
    nodeTs('scripts/s3-server.ts', '--port', String(s3Port), '--dir', join(o.work, 's3')),
    { ...S3_TEST_ENV },
  );
  await waitForPort(s3Port, s3);
  const endpoint = `http://127.0.0.1:${s3Port}`;
  o.log('starting a 3-primary Redis Cluster with replicas');
  const cluster = await startRedisCluster({ dir: join(o.work, 'redis-cluster') });
  const setups: Setup[] = [
    {
      name: '1 API + 1 worker, one Redis node, filesystem blobs',
      redisUrl: o.redisUrl,
      prefix: `{bench-c-${run}}`,
      apis: 1,
      workers: 1,
      s3: false,
    },
    {
      name: '2 API + 2 workers, 3-primary Redis Cluster, S3 blobs',
      redisUrl: cluster.url,
      prefix: `bench-c-${run}`,
      apis: 2,
      workers: 2,
      s3: true,
    },
  ];
  const config = async (s: Setup, name: string): Promise<string> => {
    const dataDir = join(o.work, name);
    await mkdir(dataDir, { recursive: true });
    const file = join(o.work, `${name}.yml`);
    await writeFile(
      file,
      stringify({
        dataDir,
        redis: { url: s.redisUrl, prefix: s.prefix },
        archive: false,
        log: { level: 'warn' },
        server: { host: '127.0.0.1', port: 0, rateLimit: { enabled: false } },
        ...(s.s3 && {
          blobs: {
            type: 's3',
            bucket: 'studyhook',
            endpoint,
            region: 'us-east-1',
            prefix: `bench-${run}/`,
            forcePathStyle: true,
            partSizeBytes: PART_MB * MB,
            queueSize: QUEUE,
          },
        }),
        platforms: {
          sensorlogger: { namespaces: { '*': {} } },
          labvanced: { namespaces: { '*': {} } },
        },
        sinks: SINKS.map((n) => ({ name: n, module: join(root, 'bench/noop-sink.js') })),
      }),
    );
    return file;
  };
  const rows: Row[] = [];
  let uploadRow: UploadRow | undefined;
  try {
    for (const s of o.only === 'upload' ? [] : setups) {
      const file = await config(s, s.s3 ? 'cluster' : 'single');
      const c = await startStudyhook(file, {
        apis: s.apis,
        workers: s.workers,
        env: { ...S3_TEST_ENV },
      });
      const cap = capCpu(
        [...c.apis, ...c.workers].map((p) => p.pid),
        o.cpu,
        `cluster-${run}-${s.apis}`,
      );
      const queues = SINKS.map((n) => openQueue(n, s.redisUrl, s.prefix));
      const pending = async (): Promise<number> =>
        (
          await Promise.all(
            queues.map((q) => q.getJobCounts('waiting', 'active', 'delayed', 'prioritized')),
          )
        ).reduce((n, cnt) => n + Object.values(cnt).reduce((a, b) => a + b, 0), 0);
      try {
        const reps: Row['reps'] = [];
        let non2xx = 0;
        for (let r = 0; r < o.reps + 1; r++) {
          const t0 = performance.now();
          const results = await Promise.all(
            c.ports.map((port) =>
              load({
                url: `http://127.0.0.1:${port}/sensorlogger/bench`,
                key: 'sensorlogger',
                connections: o.connections,
                duration: o.duration,
              }),
            ),
          );
          while ((await pending()) > 0) await sleep(100);
          const seconds = (performance.now() - t0) / 1000;
          const acked = results.reduce((n, x) => n + x.total - x.non2xx, 0);
          // why the first round is dropped: it warms the processes (and the cluster's connections) up.
          if (r > 0) {
            reps.push({ rps: results.reduce((n, x) => n + x.rps, 0), delivered: acked / seconds });
            non2xx += results.reduce((n, x) => n + x.non2xx + x.errors, 0);
          }
          o.log(
            `${s.name}: ${results.reduce((n, x) => n + x.rps, 0).toFixed(0)} req/s, ${(acked / seconds).toFixed(0)} events/s delivered to ${SINKS.length} sinks${r === 0 ? ' (warm-up)' : ''}`,
          );
        }
        rows.push({
          name: s.name,
          rps: median(reps.map((x) => x.rps)),
          deliveredPerSec: median(reps.map((x) => x.delivered)),
          reps,
          non2xx,
        });
      } finally {
        await Promise.all(queues.map((q) => q.close()));
        await c.stop();
        cap.release();
      }
    }
    uploadRow = await uploadRounds({
      uploadMb: o.uploadMb,
      rounds: o.reps,
      config: await config(setups[1]!, 'upload'),
      endpoint,
      bucket: 'studyhook',
      partSizeMb: PART_MB,
      queueSize: QUEUE,
      run,
      log: o.log,
    });
  } finally {
    await cluster.stop();
    await s3.stop();
  }
  if (o.only === 'upload') {
    process.stdout.write(uploadTable(uploadRow!, o.uploadMb).join('\n'));
    return;
  }
  const base = rows[0]!;
  const md = [
    `# studyhook scale-out on real engines — ${new Date().toISOString()}`,
    '',
    `Every API and worker process capped at ${o.cpu} of a core (cgroup); ${o.connections} connections per API process, ${o.reps} × ${o.duration} s after a warm-up round, median.`,
    `Each event goes to ${SINKS.length} no-op sinks (on the cluster each sink's queue has its own hash tag). "delivered/s" is the events acknowledged in a round over the time until every sink's queue was empty again.`,
    `Redis Cluster: 3 primaries + 3 replicas on loopback (AOF, appendfsync always), \`redis.waitReplicas\` 0; S3: scripts/s3-server.ts (s3rver) on loopback.`,
    '',
    '| setup | req/s | delivered/s | vs 1+1 (req/s) | vs 1+1 (delivered/s) | non-2xx | reps (req/s / delivered/s) |',
    '|---|---:|---:|---:|---:|---:|---|',
    ...rows.map(
      (r) =>
        `| ${r.name} | ${r.rps.toFixed(0)} | ${r.deliveredPerSec.toFixed(0)} | ${(r.rps / base.rps).toFixed(2)}× | ${(r.deliveredPerSec / base.deliveredPerSec).toFixed(2)}× | ${r.non2xx} | ${r.reps.map((x) => `${x.rps.toFixed(0)} / ${x.delivered.toFixed(0)}`).join(', ')} |`,
    ),
    '',
    ...(uploadRow ? uploadTable(uploadRow, o.uploadMb) : []),
  ].join('\n');
  const out = join(root, 'bench/results');
  await mkdir(out, { recursive: true });
  await writeFile(join(out, 'cluster.md'), md);
  await writeFile(
    join(out, 'cluster.json'),
    JSON.stringify({ at: new Date().toISOString(), cpu: o.cpu, rows, upload: uploadRow }, null, 2) +
      '\n',
  );
  o.log('wrote bench/results/cluster.md and bench/results/cluster.json');
  process.stdout.write(md);
}
