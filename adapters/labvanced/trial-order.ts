import { idOrder } from '../../src/export/sql.js';

/**
 * The trials' row order: session, task, trial number (numbers numerically), then event id and,
 * for copies of one event, the earliest received first (the copy that is kept).
 */
export function trialOrder(
  session: string,
  task: string,
  trial: string,
  id: string,
  copies = '',
): string {
  return [
    idOrder(session),
    idOrder(task),
    idOrder(trial),
    `${id} NULLS LAST`,
    ...(copies ? [copies] : []),
  ].join(', ');
}

/**
 * The same order as one sortable value, so that the scan can tell which trial comes first for each
 * set of variables (columns are in first-seen order of the rows as exported).
 */
export function trialSortKey(session: string, task: string, trial: string, id: string): string {
  const parts = [
    `TRY_CAST(${session} AS DOUBLE)`,
    session,
    `TRY_CAST(${task} AS DOUBLE)`,
    task,
    `TRY_CAST(${trial} AS DOUBLE)`,
    trial,
    id,
  ];
  return `create_sort_key(${parts.map((p) => `${p}, 'ASC NULLS LAST'`).join(', ')})`;
}
