import { idOrder } from './sql.js';

/** The event type of a Labvanced trial. */
export const TRIAL_TYPE = 'labvanced.trial.recorded';

/** How a trial's fields are read: the body's ids as text, the variables separately. */
export const TRIAL_FIELDS = 'expId VARCHAR, expSessionNr VARCHAR, recTaskId VARCHAR, taskId VARCHAR, trialNr VARCHAR, trailNr VARCHAR';

/** The trials' row order: session, task, trial number (numbers numerically), then event id. */
export function trialOrder(session: string, task: string, trial: string, id: string): string {
  return [idOrder(session), idOrder(task), idOrder(trial), `${id} NULLS LAST`].join(', ');
}

/**
 * The same order as one sortable value, so that the scan can tell which trial comes first for each
 * set of variables (columns are in first-seen order of the rows as exported).
 */
export function trialSortKey(session: string, task: string, trial: string, id: string): string {
  const parts = [`TRY_CAST(${session} AS DOUBLE)`, session, `TRY_CAST(${task} AS DOUBLE)`, task, `TRY_CAST(${trial} AS DOUBLE)`, trial, id];
  return `create_sort_key(${parts.map((p) => `${p}, 'ASC NULLS LAST'`).join(', ')})`;
}
