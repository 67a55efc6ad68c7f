import { once } from 'node:events';
import { FlowProducer, type FlowJob } from 'bullmq';
import type { Envelope } from '../event/build-event.js';
import { jobIdOf } from '../event/build-event.js';
import type { ResolvedSink } from '../config/load-config.js';
import { StudyhookError } from '../errors.js';
import type { Metrics } from '../metrics/metrics.js';
import { compileFilter } from '../sinks/filter.js';
import { createRedis, sinkQueueName } from './redis.js';

/** Makes events durable: one job per matching sink, all of a request's jobs in one MULTI. */
export interface Publisher {
  /** Resolves once every job is in Redis; rejects with SH_QUEUE_UNAVAILABLE (503) otherwise. */
  publish(envelopes: readonly Envelope[]): Promise<void>;
  /** Resolves when the connection is up (start-up). */
  waitReady(): Promise<void>;
  /** True when Redis answers PING. */
  ready(): Promise<boolean>;
  close(): Promise<void>;
}

export interface PublisherOptions {
  redisUrl: string;
  prefix: string;
  sinks: readonly ResolvedSink[];
  dedupTtlSeconds: number;
  timeoutMs: number;
  metrics?: Metrics;
}

const RETRY_AFTER_SECONDS = '5';

export function createPublisher(opts: PublisherOptions): Publisher {
  const redis = createRedis(opts.redisUrl, 'producer');
  const flow = new FlowProducer({ connection: redis, prefix: opts.prefix });
  flow.on('error', () => undefined);
  const routes = opts.sinks.map((sink) => ({ sink, matches: compileFilter(sink.filter), queueName: sinkQueueName(sink.name) }));

  function jobsOf(env: Envelope): FlowJob[] {
    const jobId = jobIdOf(env.event.id);
    return routes.filter((r) => r.matches(env.event)).map((r) => ({
      name: env.event.type,
      queueName: r.queueName,
      data: env,
      opts: {
        jobId,
        // why: BullMQ's deduplication key outlives the job, so a redelivery days later is still recognised.
        deduplication: { id: jobId, ttl: opts.dedupTtlSeconds * 1000 },
        attempts: r.sink.attempts,
        backoff: { type: r.sink.backoff.type, delay: r.sink.backoff.delayMs },
        removeOnComplete: { age: 3600, count: 10000 },
        removeOnFail: false,
      },
    }));
  }

  return {
    async publish(envelopes) {
      const jobs = envelopes.flatMap(jobsOf);
      if (jobs.length === 0) return;
      const end = opts.metrics?.publishSeconds.startTimer();
      let timer: NodeJS.Timeout | undefined;
      try {
        const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer from Redis in ${opts.timeoutMs} ms`)), opts.timeoutMs); });
        // why: while ioredis reconnects, wait (bounded by the timeout) rather than fail at once.
        if (redis.status !== 'ready') await Promise.race([once(redis, 'ready'), timeout]);
        await Promise.race([flow.addBulk(jobs), timeout]);
        for (const env of envelopes) opts.metrics?.events.inc({ type: env.event.type });
      } catch (err) {
        throw new StudyhookError('SH_QUEUE_UNAVAILABLE', undefined, { cause: err, headers: { 'Retry-After': RETRY_AFTER_SECONDS } });
      } finally {
        clearTimeout(timer);
        end?.();
      }
    },
    async waitReady() {
      if (redis.status !== 'ready') await once(redis, 'ready');
    },
    async ready() {
      try { return redis.status === 'ready' && (await redis.ping()) === 'PONG'; } catch { return false; }
    },
    async close() {
      await flow.close().catch(() => undefined);
      redis.disconnect();
    },
  };
}
