import { inspect } from 'node:util';
import { UnrecoverableError, type Job } from 'bullmq';
import type { Envelope } from '../event/build-event.js';
import { PermanentError } from '../errors.js';
import { withData } from '../event/external-data.js';
import type { ActivitySummary } from '../log/activity-summary.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { LoadedSink } from './load-sinks.js';
import type { DeliveryContext, SinkContext } from './types.js';

export interface JobDeps {
  sinkName: string;
  sink: LoadedSink['sink'];
  ctx: SinkContext;
  state: unknown;
  options: Record<string, unknown>;
  emit: DeliveryContext['emit'];
  logger: Logger;
  metrics: Metrics;
  activity?: ActivitySummary | undefined;
}

/**
 * Secrets stay in a job only while a sink may still need them: once it is completed (the worker's
 * 'completed' event, so that a delivery retried after a lost acknowledgement still has them) or has
 * become a dead letter they are removed from the job in Redis (the dashboard shows job data, and Redis'
 * AOF keeps what a job holds until its next rewrite). A replayed dead letter then has none:
 * sinks fall back to the namespace's configured secret where there is one.
 */
export async function dropSecrets(job: Job<Envelope>): Promise<void> {
  if (!job.data?.secrets) return;
  const { secrets: _s, ...rest } = job.data;
  await job.updateData(rest).catch(() => undefined);
}

/**
 * What a sink threw, as an Error. why: BullMQ reads `.message` of what a processor throws; after a
 * `throw undefined` or `throw null` its failure handler threw itself, the job stayed active until
 * its lock expired and, after one attempt and `workers.maxStalls` stalls, was a dead letter "job
 * stalled more than allowable limit"; a thrown string or plain object left the reason "null".
 */
function asError(thrown: unknown): Error {
  if (thrown instanceof Error) return thrown;
  const value = inspect(thrown, { breakLength: Infinity, depth: 2 }).slice(0, 500);
  return new Error(`the sink threw a non-Error value: ${value}`);
}

/** The BullMQ processor of one sink: deliver, count, log, and sort retryable from permanent failures. */
export function createProcessor(d: JobDeps): (job: Job<Envelope>) => Promise<void> {
  const { ctx } = d;
  return async (job) => {
    const attempt = job.attemptsMade + 1;
    // why: a job edited or written by hand in Redis (data not JSON: null from ReadableWorker; or no
    // event) cannot become deliverable by retrying; a dead letter at once, its data left for inspection.
    const event = (job.data as Envelope | null)?.event;
    if (typeof event?.id !== 'string') {
      d.metrics.deliveries.inc({ sink: d.sinkName, outcome: 'failed' });
      d.logger.error({ jobId: job.id }, 'dead letter: job data unreadable (edited in Redis?)');
      throw new UnrecoverableError('job data unreadable (not a studyhook event): edited in Redis?');
    }
    // why: each field named, not `...d.ctx`: V8 (Node 20) took microseconds per object to spread a
    // context and add fields to it, a share of the worker's CPU per event (the figures are in the commit).
    const delivery: DeliveryContext = {
      name: ctx.name,
      logger: ctx.logger,
      blobs: ctx.blobs,
      dataDir: ctx.dataDir,
      fileMode: ctx.fileMode,
      clients: ctx.clients,
      createBatcher: ctx.createBatcher,
      state: d.state,
      options: d.options,
      attempt,
      secrets: job.data.secrets ?? {},
      request: job.data.request,
      emit: d.emit,
      PermanentError,
    };
    try {
      await d.sink.deliver(await withData(event, ctx.blobs), delivery);
    } catch (thrown) {
      const err = asError(thrown);
      const final = err instanceof PermanentError || attempt >= (job.opts.attempts ?? 1);
      d.metrics.deliveries.inc({ sink: d.sinkName, outcome: final ? 'failed' : 'retry' });
      d.activity?.count(event.platform, 'failed');
      if (final) d.activity?.count(event.platform, 'deadLetters');
      // why: the sink's own message in the line itself, so that `grep 'delivery failed'` shows the cause without parsing err.
      d.logger.warn(
        {
          eventId: event.id,
          type: event.type,
          platform: event.platform,
          namespace: event.namespace,
          attempt,
          err,
          final,
        },
        `delivery failed (${final ? 'dead letter: studyhook replay re-delivers it' : 'will retry'}): ${err.message}`,
      );
      if (final) await dropSecrets(job);
      if (err instanceof PermanentError) throw new UnrecoverableError(err.message);
      throw err;
    }
    d.metrics.deliveries.inc({ sink: d.sinkName, outcome: 'ok' });
    d.activity?.count(event.platform, 'delivered');
    d.logger.debug(
      {
        eventId: event.id,
        type: event.type,
        platform: event.platform,
        namespace: event.namespace,
        attempt,
      },
      'delivered',
    );
  };
}
