import { parseArgs } from 'node:util';

/** Bench settings: flags win over env (BENCH_*), which win over the defaults; --quick shrinks them all. */
export interface BenchOptions {
  quick: boolean;
  duration: number;
  reps: number;
  connections: number;
  warmup: number;
  uploadMb: number;
  soakMinutes: number;
  scale: { apis: number; workers: number } | undefined;
  scaleCpu: number | undefined;
  profile: boolean;
  /** Adds the forged-request rows (bench/forged.ts). */
  forged: boolean;
  /** Requests counted per target by `--instructions` (0: not run), after 4000 to warm it up. */
  instructionRequests: number;
  only: string | undefined;
  redisUrl: string;
  /** `--export`: only the export bench (bench/export.ts), a separate mode. */
  export: boolean;
  /** `--study`: only the study bench (bench/study.ts), a separate mode. */
  study: boolean;
  /** `--cluster`: only the scale-out bench on a Redis Cluster and S3 (bench/cluster.ts), a separate mode. */
  cluster: boolean;
  /** `--sinks-only`: the sustained, sink and drain rows and the end-to-end figures, without the ingest rows and the upload. */
  sinksOnly: boolean;
  /** `--drain-only`: only the drain rows, printed, no report written; `--only a,b` keeps the deployments whose key holds a or b (noop, archive, queue, postgres, skeleton). */
  drainOnly: boolean;
  /** The database of the postgres rows (`BENCH_PG_URL`); without one they are skipped. */
  pgUrl: string;
}

export function readOptions(argv: string[], env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean' },
      duration: { type: 'string' },
      reps: { type: 'string' },
      connections: { type: 'string' },
      'upload-mb': { type: 'string' },
      soak: { type: 'boolean' },
      'soak-minutes': { type: 'string' },
      scale: { type: 'string' },
      'scale-cpu': { type: 'string' },
      profile: { type: 'boolean' },
      forged: { type: 'boolean' },
      instructions: { type: 'boolean' },
      only: { type: 'string' },
      export: { type: 'boolean' },
      study: { type: 'boolean' },
      cluster: { type: 'boolean' },
      'sinks-only': { type: 'boolean' },
      'drain-only': { type: 'boolean' },
    },
    allowPositionals: false,
  });
  const quick = values.quick ?? env['BENCH_QUICK'] === '1';
  const num = (flag: string | undefined, key: string, full: number, short: number): number =>
    Number(flag ?? env[key] ?? (quick ? short : full));
  const soak = values.soak ?? env['BENCH_SOAK'] === '1';
  const soakMinutes = soak ? Number(values['soak-minutes'] ?? env['BENCH_SOAK_MINUTES'] ?? 5) : 0;
  // why: `--scale N,M` measures 1..N API processes, each time with M workers, so the table shows the trend.
  const [apis, workers] = (values.scale ?? env['BENCH_SCALE'] ?? '').split(',').map(Number);
  const scale = apis ? { apis, workers: workers || apis } : undefined;
  return {
    quick,
    duration: num(values.duration, 'BENCH_DURATION', 5, 2),
    reps: num(values.reps, 'BENCH_REPS', 3, 1),
    connections: num(values.connections, 'BENCH_CONNECTIONS', 50, 50),
    warmup: quick ? 1 : 2,
    uploadMb: num(values['upload-mb'], 'BENCH_UPLOAD_MB', 1024, 64),
    soakMinutes,
    scale,
    scaleCpu: Number(values['scale-cpu'] ?? env['BENCH_SCALE_CPU'] ?? 0) || undefined,
    profile: values.profile ?? env['BENCH_PROFILE'] === '1',
    forged: values.forged ?? env['BENCH_FORGED'] === '1',
    instructionRequests:
      (values.instructions ?? env['BENCH_INSTRUCTIONS'] === '1')
        ? num(undefined, 'BENCH_INSTRUCTIONS_REQUESTS', 3000, 1000)
        : 0,
    only: values.only ?? env['BENCH_ONLY'],
    redisUrl: env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
    export: values.export ?? false,
    study: values.study ?? false,
    cluster: values.cluster ?? false,
    sinksOnly: values['sinks-only'] ?? env['BENCH_SINKS_ONLY'] === '1',
    drainOnly: values['drain-only'] ?? env['BENCH_DRAIN_ONLY'] === '1',
    pgUrl: env['BENCH_PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test',
  };
}
