import type { Job, JobType, Queue } from 'bullmq';

/**
 * A queue's jobs in these states, newest first, as BullMQ's getJobs reads them, less any whose data
 * cannot be parsed. why: getJobs (and getFailed) throw on the first such job, one edited by hand in
 * Redis: every dashboard page listing jobs answered 500 while it was there.
 */
export async function readableJobs(
  queue: Queue,
  types: JobType[],
  start = 0,
  end = -1,
): Promise<Job[]> {
  const ids = await queue.getRanges(types, start, end);
  const jobs = await Promise.all(ids.map((id) => queue.getJob(id).catch(() => undefined)));
  return jobs.filter((job): job is Job => job !== undefined);
}
