import { col, createTable } from '../../src/export/create-table.js';
import { idOrder, lit } from '../../src/export/sql.js';
import type { TableBuilder } from '../../src/export/types.js';
import { labvancedEvents, LIFECYCLE, namePseudonyms } from './export-events.js';
import { objectColumns } from './session-objects.js';

/** One row per Labvanced session seen in any event, with its status and counts. */
export const labvancedSessions: TableBuilder = {
  name: 'labvanced_sessions',
  platform: 'labvanced',
  async build(ctx) {
    await labvancedEvents(ctx);
    const L = LIFECYCLE;
    const first = (type: string, expr: string) =>
      `arg_min(${expr}, (receivedat, id)) FILTER (WHERE type = ${lit(type)} AND ${expr} IS NOT NULL)`;
    const any = (expr: string) =>
      `arg_min(${expr}, (receivedat, id)) FILTER (WHERE ${expr} IS NOT NULL)`;
    const latest = (expr: string, types: string[]) =>
      `arg_max(${expr}, (receivedat, id)) FILTER (WHERE type IN (${types.map(lit).join(', ')}) AND ${expr} IS NOT NULL)`;
    // why: the latest lifecycle event decides the status, by the gateway's clock (the player's
    // start_time/end_time come from the participant's computer); a tie goes to the later step.
    const rank = `CASE type WHEN ${lit(L.assigned)} THEN 1 WHEN ${lit(L.started)} THEN 2 WHEN ${lit(L.finished)} THEN 3 WHEN ${lit(L.failed)} THEN 4 END`;
    await ctx.conn.run(`CREATE OR REPLACE TEMP TABLE s AS
      WITH ids AS (SELECT session FROM lv_events WHERE session IS NOT NULL UNION SELECT session FROM lv_trial_counts WHERE session IS NOT NULL)
      SELECT ids.session, any_value(p.participant) AS participant,
        ${any('e.data.expId')} AS study, ${first(L.assigned, 'e.data.groupNr')} AS group_nr, ${first(L.assigned, 'e.data.group_name')} AS group_name,
        coalesce(${first(L.assigned, 'e.data.sessionNr')}, ${first(L.started, 'e.data.sessionNr')}) AS session_nr, ${first(L.assigned, 'e.data.session_name')} AS session_name,
        ${first(L.assigned, 'e.data.experiment_name')} AS experiment_name, ${first(L.assigned, 'e.data.isTestrun')} AS is_testrun,
        arg_max(replace(type, 'labvanced.session.', ''), (receivedat, ${rank}, id)) FILTER (WHERE ${rank} IS NOT NULL) AS status,
        ${first(L.assigned, 'e.time')} AS assigned_at, ${first(L.started, 'e.time')} AS started_at, ${first(L.finished, 'e.time')} AS finished_at,
        ${first(L.failed, 'e.time')} AS failed_at, ${first(L.failed, 'e.data.err_msg')} AS error_message,
        count(*) FILTER (WHERE type = ${lit(L.task)}) AS tasks, count(*) FILTER (WHERE type = ${lit(L.file)}) AS files,
        ${latest("json_extract_string(e.data.var_data, '/crowdsourcingCode')", [L.meta, L.finished])} AS crowdsourcing_code,
        ${latest("json_extract_string(e.data.var_data, '/crowdsourcinSubjId')", [L.meta, L.finished])} AS crowdsourcing_subject_id,
        ${any('e.data.token')} AS token, iso_time(${latest('e.data.nextStartTime', [L.finished])}) AS next_start_time, iso_time(${latest('e.data.nextEndTime', [L.finished])}) AS next_end_time,
        ${latest('e.data.reminderTime', [L.finished])} AS reminder_time, ${latest('e.data.emailReminder', [L.finished])} AS email_reminder,
        ${latest('e.data.selectedEmail', [L.finished])} AS selected_email,
        ${latest('e.data.var_data', [L.meta, L.finished])} AS var_data, ${latest('e.data.survey_data', [L.assigned])} AS survey_data
      FROM ids LEFT JOIN lv_events e ON e.session = ids.session LEFT JOIN lv_people p ON p.session = ids.session GROUP BY ids.session`);
    const fixed = [
      'session',
      'participant',
      'study',
      'status',
      'group_nr',
      'group_name',
      'session_nr',
      'session_name',
      'experiment_name',
      'is_testrun',
      'assigned_at',
      'started_at',
      'finished_at',
      'failed_at',
      'error_message',
      'trials',
      'tasks',
      'files',
      'crowdsourcing_code',
      'crowdsourcing_subject_id',
      'token',
      'next_start_time',
      'next_end_time',
      'reminder_time',
      'email_reminder',
      'selected_email',
    ];
    const survey = await objectColumns(ctx, 'survey_data', fixed);
    const meta = await objectColumns(ctx, 'var_data', [
      ...fixed,
      ...survey.columns.map((c) => c.name),
    ]);
    const values = [survey.values, meta.values].filter((v) => v !== undefined);
    return createTable(ctx, {
      description:
        'One row per Labvanced session (`expSessionNr`) seen in any event: its lifecycle, counts and meta information.',
      columns: [
        col('session', 'text', 's.session', 'Labvanced recording session', 'data.expSessionNr'),
        col(
          'participant',
          'text',
          's.participant',
          "The session's subject code, else its crowdsourcing id",
          'participantid (subject_code, var_data.crowdsourcinSubjId)',
          { identifier: true, pseudoExpr: 's.participant' },
        ),
        col('study', 'text', 's.study', 'Labvanced study id', 'data.expId'),
        col(
          'status',
          'text',
          's.status',
          'Latest lifecycle step: assigned, started, finished or failed (empty when only trials were seen)',
          'type of the latest labvanced.session.* event',
        ),
        col(
          'group_nr',
          'integer',
          'TRY_CAST(s.group_nr AS BIGINT)',
          'Group number',
          '/startFirstPlayerSession data.groupNr',
        ),
        col(
          'group_name',
          'text',
          's.group_name',
          'Group name',
          '/startFirstPlayerSession data.group_name',
        ),
        col(
          'session_nr',
          'integer',
          'TRY_CAST(s.session_nr AS BIGINT)',
          'Session number in a longitudinal study',
          'data.sessionNr',
        ),
        col(
          'session_name',
          'text',
          's.session_name',
          'Session name',
          '/startFirstPlayerSession data.session_name',
        ),
        col(
          'experiment_name',
          'text',
          's.experiment_name',
          'Experiment name',
          '/startFirstPlayerSession data.experiment_name',
        ),
        col(
          'is_testrun',
          'boolean',
          'TRY_CAST(s.is_testrun AS BOOLEAN)',
          'Whether this was a test run',
          '/startFirstPlayerSession data.isTestrun',
        ),
        col(
          'assigned_at',
          'time',
          's.assigned_at',
          'When the session was assigned (received)',
          'labvanced.session.assigned time',
        ),
        col(
          'started_at',
          'time',
          's.started_at',
          'When the participant started (start_time)',
          'labvanced.session.started time',
        ),
        col(
          'finished_at',
          'time',
          's.finished_at',
          'When the experiment finished (end_time)',
          'labvanced.session.finished time',
        ),
        col(
          'failed_at',
          'time',
          's.failed_at',
          'When the experiment aborted with an error (received)',
          'labvanced.session.failed time',
        ),
        col(
          'error_message',
          'text',
          's.error_message',
          'The error message of the abort',
          '/errExpSession data.err_msg',
          // why: a browser's error names the page's URL, and with it the participant link's
          // parameters (subject_code, PROLIFIC_PID). why only under --pseudonymize: a plain
          // export's codebook stays as it was.
          ctx.pseudonymize
            ? { mentions: true, pseudoExpr: 'unids(s.error_message, s.lv_ids)' }
            : {},
        ),
        col(
          'trials',
          'integer',
          'coalesce((SELECT n FROM lv_trial_counts x WHERE x.session = s.session), 0)',
          'Trials recorded (rows in labvanced_trials)',
          'labvanced.trial.recorded events',
        ),
        col('tasks', 'integer', 's.tasks', 'Tasks started', 'labvanced.task.started events'),
        col(
          'files',
          'integer',
          's.files',
          'Files uploaded (rows in labvanced_files)',
          'labvanced.file.uploaded events',
        ),
        col(
          'crowdsourcing_code',
          'text',
          's.crowdsourcing_code',
          'Crowdsourcing / completion code',
          'data.var_data.crowdsourcingCode',
        ),
        col(
          'crowdsourcing_subject_id',
          'text',
          's.crowdsourcing_subject_id',
          "The participant's crowdsourcing worker id (e.g. the Prolific id)",
          'data.var_data.crowdsourcinSubjId',
          { identifier: true },
        ),
        col('token', 'text', 's.token', 'Participant token of a longitudinal study', 'data.token', {
          identifier: true,
        }),
        col(
          'next_start_time',
          'time',
          's.next_start_time',
          'Next start time (longitudinal), UTC',
          '/finishExpSession data.nextStartTime',
        ),
        col(
          'next_end_time',
          'time',
          's.next_end_time',
          'Next end time (longitudinal), UTC',
          '/finishExpSession data.nextEndTime',
        ),
        col(
          'reminder_time',
          'text',
          's.reminder_time',
          'Time until the next start (longitudinal), as sent',
          '/finishExpSession data.reminderTime',
        ),
        col(
          'email_reminder',
          'text',
          's.email_reminder',
          'When to send the reminder (longitudinal)',
          '/finishExpSession data.emailReminder',
        ),
        col(
          'selected_email',
          'text',
          's.selected_email',
          'Email address for reminders (longitudinal)',
          '/finishExpSession data.selectedEmail',
          { personal: true },
        ),
        ...survey.columns,
        ...meta.columns,
      ],
      // why a subquery: each object's values are looked up once per session, then read by column;
      // so are the session's identifiers (`lv_ids`) that text columns replace under --pseudonymize.
      from: ctx.pseudonymize
        ? `FROM (SELECT s.*, ${[...values, 'x.ids AS lv_ids'].join(', ')} FROM s LEFT JOIN lv_ids x ON x.session = s.session) s`
        : values.length > 0
          ? `FROM (SELECT *, ${values.join(', ')} FROM s) s`
          : 'FROM s',
      orderBy: idOrder('s.session'),
      namePseudonyms: await namePseudonyms(ctx),
    });
  },
};
