// The sink part of bench/results/latest.md (issue #26): targets, the sustained rows with their
// batch figures, the drain rows and the archive's end-to-end latency.
import type { Results } from './report.js';
import { cpuCeiling } from './drain-cpu.js';
import type { BatchFigures, SinkRow } from './sinks.js';

const x = (a: number | undefined, b: number | undefined): string =>
  a && b ? `${(a / b).toFixed(2)}×` : '–';
const pass = (ok: boolean): string => (ok ? 'met' : '**not met**');
const delivered = (r: SinkRow | undefined): number => r?.deliveredRps ?? 0;
const writes = (b: BatchFigures[]): string =>
  b.map((f) => `${f.sink}: ${f.perSecond.toFixed(0)}/s × ${f.perWrite.toFixed(1)}`).join('; ');

/** Rows for the Targets table. */
export function sinkTargets(r: Results): string[] {
  const s = r.sinks;
  if (!s) return [];
  const row = (k: SinkRow['key']): SinkRow | undefined => s.rows.find((y) => y.key === k);
  const [noop, archive, pgRow, skeleton] = [
    row('noop'),
    row('archive'),
    row('postgres'),
    row('skeleton'),
  ];
  const out: string[] = [];
  if (archive && noop)
    out.push(
      `| Sustained, archive sink (fsync) ≥ 0.8× sustained, no-op sink (events delivered per second) | ${delivered(archive).toFixed(0)} vs ${delivered(noop).toFixed(0)}: ${x(delivered(archive), delivered(noop))} | ${pass(delivered(archive) >= 0.8 * delivered(noop))} |`,
    );
  if (s.e2e)
    out.push(
      `| Archive: ingest-to-delivered p99 ≤ 50 ms at half its rate | p99 ${s.e2e.p99} ms, p50 ${s.e2e.p50} ms at ${s.e2e.rate} req/s (p99 of each window: ${s.e2e.reps.map((w) => w.p99).join(', ')} ms)${s.fsync ? `; the disk's fdatasync alone: p99 ${s.fsync.p99} ms` : ''} | ${pass(s.e2e.p99 <= 50)} |`,
    );
  if (pgRow && skeleton)
    out.push(
      `| Sustained, postgres sink ≥ 0.8× the skeleton (100-row INSERTs, one pool) | ${delivered(pgRow).toFixed(0)} vs ${delivered(skeleton).toFixed(0)}: ${x(delivered(pgRow), delivered(skeleton))} | ${pass(delivered(pgRow) >= 0.8 * delivered(skeleton))} |`,
    );
  const drainPg = s.drains.find((d) => d.key === 'postgres');
  const queue = s.drains.find((d) => d.key === 'queue');
  if (drainPg)
    out.push(
      `| Postgres sink ≥ 5,000 events/s (its own rate: a worker draining a backlog) | ${drainPg.median.toFixed(0)} events/s${queue ? `, ${x(drainPg.median, queue.median)} of the queue alone (no-op sink at the same concurrency: ${queue.median.toFixed(0)})` : ''}${drainPg.cpu ? `; its CPU per event allows ${cpuCeiling(drainPg.cpu).toFixed(0)} on this machine's idle cores` : ''} (sustained through the API: ${delivered(pgRow).toFixed(0)}, where the no-op sink made ${delivered(noop).toFixed(0)}) | ${pass(drainPg.median >= 5000)} |`,
    );
  return out;
}

/** The "Sinks" section. */
export function sinkSection(r: Results): string[] {
  const s = r.sinks;
  if (!s) return [];
  const noop = s.rows.find((y) => y.key === 'noop');
  const skeleton = s.rows.find((y) => y.key === 'skeleton');
  const noop2 = s.rows.find((y) => y.key === 'noop2');
  const base = (y: SinkRow): SinkRow | undefined =>
    (
      ({ postgres: skeleton, both: noop2, archive: noop, skeleton: noop }) as Partial<
        Record<SinkRow['key'], SinkRow>
      >
    )[y.key];
  const floor = s.drains.find((d) => d.key === 'floor');
  const lines = [
    '',
    '## Sinks: the default deployment end to end (issue #26)',
    '',
    "Each row is one API process and one worker process delivering during the load, every deployment with its own config and Redis prefix, the rows taking turns like the rows above. \"delivered/s\" counts a repetition's requests over its load time plus the time its backlog took to drain: a worker that falls behind lowers it. The archive's skeleton (and the postgres skeleton's) is the no-op sink; archive + postgres has two jobs per event, and its skeleton is two no-op sinks; the postgres sink's is `bench/pg-skeleton-sink.ts` (the same rows, columns and indexes, 100-row INSERTs from one pool of 4, each delivery resolved when its INSERT committed, at the same concurrency, 256). \"writes/s × items\" is, per sink, fsyncs (archive) or INSERT statements (postgres) per second and the lines or rows each carried, from the worker's `studyhook_sink_batches_total` and `studyhook_sink_batched_items_total`.",
    '',
    '| Row | acknowledged req/s | delivered/s | vs its skeleton | p99 ms | backlog drained in | writes/s × items per write | reps (req/s) |',
    '|---|---:|---:|---:|---:|---:|---|---|',
    ...s.rows.map(
      (y) =>
        `| ${y.name} | ${y.rps.toFixed(0)} | ${delivered(y).toFixed(0)} | ${base(y) ? x(delivered(y), delivered(base(y))) : ''} | ${y.p99} | ${y.drainMs ?? ''} ms | ${writes(y.batches)} | ${y.reps.join(', ')} |`,
    ),
  ];
  if (s.drains.length) {
    lines.push(
      '',
      `**Drain**: each sink's own rate, the API out of the way: its queue paused, ${s.drains[0]!.events} requests acknowledged, then the worker let go and timed until all were delivered (median of ${r.options.reps}). The queue alone is the no-op sink at the postgres sink's concurrency (256): what BullMQ, Redis and one worker process deliver with no sink work, the ceiling of every drain. The bench's module sinks (no-op, skeleton) are configured \`secrets: false\`, so their jobs carry no secrets, like the built-in sinks'. The floor re-inserts the postgres sink's newest rows into a table like it, 100 per INSERT, four at a time from one pool of four, with no queue at all: what the database takes. "CPU µs/event" is the CPU time the worker process, Redis and PostgreSQL (all its server processes) used during the drain, per event (median of the repetitions; on a shared machine the Redis and PostgreSQL figures include other clients' work). "CPU allows" is what that CPU time permits had the drain the machine's cores to itself: at most one core for the worker (one thread), and all the cores for the three together.`,
      '',
      '| Drain | events/s | reps | vs no-op | vs the queue alone | vs floor | CPU µs/event: worker / Redis / PostgreSQL | CPU allows (events/s) | writes/s × items per write |',
      '|---|---:|---|---:|---:|---:|---|---:|---|',
      ...s.drains.map((d) => {
        const vs = (key: string): string =>
          d.key === 'floor' ? '' : x(d.median, s.drains.find((y) => y.key === key)?.median);
        const cpu = d.cpu ? `${d.cpu.worker} / ${d.cpu.redis} / ${d.cpu.postgres}` : '';
        const allows = d.cpu ? cpuCeiling(d.cpu).toFixed(0) : '';
        return `| ${d.name} | ${d.median.toFixed(0)} | ${d.eventsPerSec.join(', ')} | ${vs('noop')} | ${vs('queue')} | ${d.key === 'floor' ? '' : x(d.median, floor?.median)} | ${cpu} | ${allows} | ${writes(d.batches)} |`;
      }),
    );
  }
  if (s.e2e) {
    const e = s.e2e;
    lines.push(
      '',
      `**Archive end to end** (\`bench/timed-sink.ts\`: the filesystem sink, the time noted once its line is fsync'd) at ${e.rate} req/s, half the archive row's delivered rate, ${e.reps.length} window(s): p50 ${e.p50} ms, p99 ${e.p99} ms (windows: ${e.reps.map((w) => `${w.p50}/${w.p99}`).join(', ')} ms p50/p99); all ${e.delivered} deliveries together: p99 ${e.pooledP99} ms.${s.fsync ? ` Just before, the disk's own fdatasync of a 4 KiB append, alone, every 5 ms (${s.fsync.n} of them): p50 ${s.fsync.p50} ms, p99 ${s.fsync.p99} ms, max ${s.fsync.max} ms; a line waits for the fdatasync in flight and then its own.` : ''}`,
    );
  }
  return lines;
}
