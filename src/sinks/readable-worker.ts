import { Worker, type Job, type JobJson } from 'bullmq';
import type { Envelope } from '../event/build-event.js';

/**
 * A BullMQ Worker that hands its processor a job whose data cannot be parsed as `data: null`, where
 * BullMQ throws. why: BullMQ parses a job's data after moving it to active and before processing it;
 * the parse error was only emitted as a worker error, and the job stayed active, stalled once its
 * lock expired, came back and failed to parse again, for ever: never a dead letter whatever
 * `workers.maxStalls` (BullMQ fails a stalled-out job in the processing step it never reached), one
 * error line per lock period. The processor makes such a job a dead letter (deliver-job.ts).
 */
export class ReadableWorker extends Worker<Envelope> {
  protected override createJob(data: JobJson, jobId: string): Job<Envelope> {
    try {
      return super.createJob(data, jobId);
    } catch {
      return super.createJob({ ...data, data: 'null' }, jobId);
    }
  }
}
