import type { JobsOptions } from 'bullmq';
import type { ResolvedSink } from '../config/load-config.js';
import { jobIdOf } from '../event/build-event.js';

/**
 * The options of an event's job in a sink's queue, for live publishing and `replay` alike: the
 * sink's attempts and backoff, the job id derived from the event id, and a deduplication key that
 * outlives the job (so a redelivery days later is still recognised). Failed jobs stay as dead letters.
 */
export function jobOptions(
  sink: ResolvedSink,
  eventId: string,
  dedupTtlSeconds: number,
): JobsOptions {
  const jobId = jobIdOf(eventId);
  return {
    jobId,
    deduplication: { id: jobId, ttl: dedupTtlSeconds * 1000 },
    attempts: sink.attempts,
    backoff: { type: sink.backoff.type, delay: sink.backoff.delayMs },
    removeOnComplete: { age: 3600, count: 10000 },
    removeOnFail: false,
  };
}
