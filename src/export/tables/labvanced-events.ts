import { TRIAL_TYPE } from '../trial-order.js';
import type { TableContext } from '../types.js';

/** Labvanced's event types other than trials (few per session). */
export const LIFECYCLE = {
  assigned: 'labvanced.session.assigned', started: 'labvanced.session.started', meta: 'labvanced.session.meta',
  finished: 'labvanced.session.finished', failed: 'labvanced.session.failed', task: 'labvanced.task.started', file: 'labvanced.file.uploaded',
} as const;

const DATA = `STRUCT(expId VARCHAR, expSessionNr VARCHAR, subject_code VARCHAR, token VARCHAR, isTestrun VARCHAR,
  groupNr VARCHAR, sessionNr VARCHAR, group_name VARCHAR, session_name VARCHAR, experiment_name VARCHAR, err_msg VARCHAR,
  nextStartTime VARCHAR, nextEndTime VARCHAR, reminderTime VARCHAR, selectedEmail VARCHAR, emailReminder VARCHAR,
  recTaskId VARCHAR, taskId VARCHAR, taskNr VARCHAR, taskName VARCHAR, blockNr VARCHAR, blockName VARCHAR, fileName VARCHAR,
  file STRUCT(id VARCHAR, name VARCHAR, contentType VARCHAR, size BIGINT, sha256 VARCHAR, uri VARCHAR), var_data JSON, survey_data JSON)`;

/**
 * Materialises the helper tables the Labvanced tables share (once per export): `lv_events` (every
 * non-trial event, one row per id), `lv_people` (session → participant) and `lv_tasks` (session +
 * recTaskId → task name and number).
 */
export async function labvancedEvents(ctx: TableContext): Promise<void> {
  const done = await ctx.conn.runAndReadAll(`SELECT count(*) FROM duckdb_tables() WHERE table_name = 'lv_events'`);
  if (Number(done.getRowsJS()[0]?.[0]) > 0) return;
  const types = Object.values(LIFECYCLE);
  await ctx.conn.run(`CREATE TEMP TABLE lv_events AS SELECT *, data.expSessionNr AS session FROM ${ctx.archive.events('labvanced', { data: DATA }, { types })}`);
  // why: trials rarely carry the participant; the session's first event that names one does.
  await ctx.conn.run(`CREATE TEMP TABLE lv_people AS SELECT session, arg_min(participantid, receivedat) AS participant
    FROM lv_events WHERE participantid IS NOT NULL AND session IS NOT NULL GROUP BY session`);
  await ctx.conn.run(`CREATE TEMP TABLE lv_tasks AS SELECT session, data.recTaskId AS rec_task_id, arg_min(data.taskName, receivedat) AS task_name,
    arg_min(data.taskNr, receivedat) AS task_nr, arg_min(data.blockName, receivedat) AS block_name
    FROM lv_events WHERE type = '${LIFECYCLE.task}' GROUP BY ALL`);
}

export { TRIAL_TYPE };
