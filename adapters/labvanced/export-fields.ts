/** The event type of a Labvanced trial. */
export const TRIAL_TYPE = 'labvanced.trial.recorded';

/** Labvanced's event types other than trials (a few per session). */
export const LIFECYCLE = {
  assigned: 'labvanced.session.assigned',
  started: 'labvanced.session.started',
  meta: 'labvanced.session.meta',
  finished: 'labvanced.session.finished',
  failed: 'labvanced.session.failed',
  task: 'labvanced.task.started',
  file: 'labvanced.file.uploaded',
} as const;

/** How a trial's own fields are read: the body's ids as text, the variables separately. */
export const TRIAL_FIELDS =
  'expId VARCHAR, expSessionNr VARCHAR, recTaskId VARCHAR, taskId VARCHAR, trialNr VARCHAR, trailNr VARCHAR';

/** The fields of every other Labvanced route (docs 3.2–3.9) the tables use. */
export const LIFECYCLE_FIELDS = `subject_code VARCHAR, token VARCHAR, isTestrun VARCHAR,
  groupNr VARCHAR, sessionNr VARCHAR, group_name VARCHAR, session_name VARCHAR, experiment_name VARCHAR, err_msg VARCHAR,
  nextStartTime VARCHAR, nextEndTime VARCHAR, reminderTime VARCHAR, selectedEmail VARCHAR, emailReminder VARCHAR,
  taskNr VARCHAR, taskName VARCHAR, blockNr VARCHAR, blockName VARCHAR, fileName VARCHAR,
  file STRUCT(id VARCHAR, name VARCHAR, contentType VARCHAR, size BIGINT, sha256 VARCHAR, uri VARCHAR), var_data JSON, survey_data JSON`;

/** `data` of a non-trial Labvanced event as `lv_events` holds it. */
export const LIFECYCLE_DATA = `STRUCT(${TRIAL_FIELDS}, ${LIFECYCLE_FIELDS})`;
