import { Queue, type Worker } from 'bullmq';
import { buildEvent, sha256Hex, type StudyhookEvent } from '../event/build-event.js';
import type { EventDraft } from '../event/draft.js';
import { publishStep } from '../pipeline/publish-step.js';
import type { ActivitySummary } from '../log/activity-summary.js';
import type { Logger } from '../log/logger.js';
import type { Metrics } from '../metrics/metrics.js';
import type { Publisher } from '../queue/publisher.js';
import { createRedis, openQueue, sinkQueueName, type RedisClient } from '../queue/redis.js';
import type { LoadedSink } from './load-sinks.js';
import { StudyhookError } from '../errors.js';
import { createBatcher, type BatcherOptions } from './create-batcher.js';
import { createProcessor, dropSecrets } from './deliver-job.js';
import { ReadableWorker } from './readable-worker.js';
import type { SinkContext } from './types.js';
import { withTimeout } from '../util/timeout.js';

export interface WorkerDeps {
  redisUrl: string;
  prefix: string;
  base: Omit<SinkContext, 'name' | 'logger' | 'createBatcher'>;
  logger: Logger;
  metrics: Metrics;
  publisher: Publisher;
  /** Seconds before a job of a dead worker is taken up again (BullMQ stalled-job check). */
  stalledIntervalMs?: number;
  /** How long a job's lock lasts without renewal (`workers.lockDurationMs`). */
  lockDurationMs?: number;
  /** Stalls after which a job becomes a dead letter (`workers.maxStalls`). */
  maxStalls?: number;
  /** Follow-up events (`ctx.emit`) with larger data keep it in the blob store (`server.maxQueuedDataBytes`). */
  maxQueuedDataBytes?: number;
  /** Counts deliveries for the periodic activity line. */
  activity?: ActivitySummary;
}

export interface RunningWorkers {
  close(): Promise<void>;
}

function emitter(publisher: Publisher, blobs: SinkContext['blobs'], maxQueuedDataBytes: number) {
  return async (draft: EventDraft, from: StudyhookEvent): Promise<StudyhookEvent> => {
    const body = Buffer.from(JSON.stringify(draft.data ?? null));
    const origin = {
      platform: from.platform,
      namespace: from.namespace,
      requestId: from.requestid ?? from.id,
      receivedAt: new Date(),
    };
    const env = buildEvent(draft, origin, sha256Hex(body), {
      method: 'EMIT',
      path: `emit:${from.id}`,
      headers: {},
      bodySize: body.length,
      ip: '',
    });
    await publishStep(publisher, blobs, maxQueuedDataBytes)([env]);
    return env.event;
  };
}

/**
 * QUIT, so that a command still in flight (BullMQ may still run a stalled-job check after the worker
 * closed) is answered rather than rejected; then disconnect, also when Redis is away and QUIT would wait.
 */
async function closeConnection(redis: RedisClient): Promise<void> {
  if (redis.status === 'ready') {
    await withTimeout(
      redis.quit().catch(() => undefined),
      2000,
      () => undefined,
    );
  }
  redis.disconnect();
}

/** Sets up every sink and starts one BullMQ worker per sink queue. */
export async function runWorkers(
  sinks: readonly LoadedSink[],
  deps: WorkerDeps,
): Promise<RunningWorkers> {
  const emit = emitter(deps.publisher, deps.base.blobs, deps.maxQueuedDataBytes ?? 256 * 1024);
  const running: { worker: Worker; queue: Queue; close: () => Promise<void> }[] = [];
  for (const { config, sink, options } of sinks) {
    const logger = deps.logger.child({ sink: config.name });
    const counted = <T>(o: BatcherOptions<T>) =>
      createBatcher(o, (size) => {
        deps.metrics.batches.inc({ sink: config.name });
        deps.metrics.batchedItems.inc({ sink: config.name }, size);
      });
    const ctx: SinkContext = { ...deps.base, name: config.name, logger, createBatcher: counted };
    const state = await setUp(config.name, () => sink.setup?.(options, ctx));
    const queueName = sinkQueueName(config.name, deps.prefix);
    const processor = createProcessor({
      sinkName: config.name,
      sink,
      ctx,
      state,
      options,
      emit,
      logger,
      metrics: deps.metrics,
      activity: deps.activity,
    });
    // why: our own connection (BullMQ duplicates it for its blocking reads), so that its writes are batched (createRedis).
    const connection = createRedis(deps.redisUrl, 'worker');
    const worker = new ReadableWorker(queueName, processor, {
      connection,
      prefix: deps.prefix,
      concurrency: config.concurrency ?? sink.concurrency ?? 8,
      stalledInterval: deps.stalledIntervalMs ?? 30000,
      lockDuration: deps.lockDurationMs ?? 30000,
      maxStalledCount: deps.maxStalls ?? 2,
    });
    worker.on('error', (err) => logger.error({ err }, 'worker error'));
    worker.on('stalled', (jobId) => {
      logger.warn(
        { jobId },
        'delivery stalled (its worker died or blocked): taken up again, or a dead letter after workers.maxStalls',
      );
    });
    worker.on('completed', (job) => {
      void dropSecrets(job);
    });
    // why: a job failed for stalling too often never reaches our processor; drop its secrets here too.
    worker.on('failed', (job) => {
      if (job)
        void job
          .isFailed()
          .then((dead) => (dead ? dropSecrets(job) : undefined))
          .catch(() => undefined);
    });
    const queue = openQueue(config.name, deps.redisUrl, deps.prefix);
    deps.metrics.onScrape(async () => {
      const counts = await queue.getJobCounts(
        'waiting',
        'active',
        'delayed',
        'failed',
        'completed',
      );
      for (const [state, n] of Object.entries(counts))
        deps.metrics.queueDepth.set({ sink: config.name, state }, n);
    });
    running.push({
      worker,
      queue,
      close: async () => {
        await closeConnection(connection);
        await sink.close?.(state);
      },
    });
  }
  return {
    async close() {
      await Promise.all(running.map((r) => r.worker.close()));
      await Promise.all(
        running.map(async (r) => {
          await r.queue.close();
          await r.close();
        }),
      );
    },
  };
}

/** Runs a sink's setup; a failure names the sink and the fix. */
async function setUp(name: string, setup: () => unknown): Promise<unknown> {
  try {
    return await setup();
  } catch (err) {
    throw new StudyhookError(
      'SH_SINK_SETUP',
      `Sink '${name}' failed to set up: ${(err as Error).message}. Fix its options, or the service it connects to, and start again.`,
      { cause: err },
    );
  }
}
