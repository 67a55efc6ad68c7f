import { col, createTable } from '../../src/export/create-table.js';
import type { ColumnSpec, TableBuilder } from '../../src/export/types.js';

const DATA = {
  data: 'STRUCT(EventType VARCHAR, ParticipantIdentifier VARCHAR, ParticipantID VARCHAR, ProjectID VARCHAR, SurveyResultID VARCHAR, SurveyID VARCHAR, SurveyName VARCHAR, SurveyDisplayName VARCHAR, SurveyVersion VARCHAR, TaskID VARCHAR, ScheduleID VARCHAR, ScheduleName VARCHAR)',
  testmode: 'BOOLEAN',
};

const common = (): ColumnSpec[] => [
  col(
    'participant',
    'text',
    'e.data.ParticipantIdentifier',
    'Project-level participant identifier',
    'data.ParticipantIdentifier',
    { identifier: true },
  ),
  col(
    'participant_id',
    'text',
    'e.data.ParticipantID',
    'Internal participant id (UUID)',
    'data.ParticipantID',
    { identifier: true },
  ),
  col('project_id', 'text', 'e.data.ProjectID', 'Project id (UUID)', 'data.ProjectID'),
];
const tail = (): ColumnSpec[] => [
  col(
    'test_mode',
    'boolean',
    'coalesce(e.testmode, false)',
    'Sent to the namespace registered for Test mode',
    'testmode',
  ),
  col('time', 'time', 'e.time', 'When the event happened (UTC)', 'time'),
  col('received_at', 'time', 'e.receivedat', 'When it was received (UTC)', 'receivedat'),
  col('event_id', 'text', 'e.id', 'Event id', 'id'),
];

/** One row per `Survey Submitted` call. */
export const mydatahelpsSurveys: TableBuilder = {
  name: 'mydatahelps_surveys',
  platform: 'mydatahelps',
  build(ctx) {
    return createTable(ctx, {
      description: 'One row per submitted survey result (`SurveySubmitted`).',
      columns: [
        col(
          'survey_result_id',
          'text',
          'e.data.SurveyResultID',
          'Survey result id',
          'data.SurveyResultID',
        ),
        ...common(),
        col('survey_id', 'text', 'e.data.SurveyID', 'Survey id', 'data.SurveyID'),
        col('survey_name', 'text', 'e.data.SurveyName', 'Survey name', 'data.SurveyName'),
        col(
          'survey_display_name',
          'text',
          'e.data.SurveyDisplayName',
          'Survey display name',
          'data.SurveyDisplayName',
        ),
        col(
          'survey_version',
          'text',
          'e.data.SurveyVersion',
          'Survey version',
          'data.SurveyVersion',
        ),
        col('task_id', 'text', 'e.data.TaskID', 'Task id', 'data.TaskID'),
        ...tail(),
      ],
      from: `FROM ${ctx.archive.events('mydatahelps', DATA, { types: ['mydatahelps.survey.submitted'] })} e`,
      orderBy: 'e.time, e.receivedat, e.id',
    });
  },
};

/** One row per `Schedule Triggered` call (schedules have no id of their own; each call is a row). */
export const mydatahelpsSchedules: TableBuilder = {
  name: 'mydatahelps_schedules',
  platform: 'mydatahelps',
  build(ctx) {
    return createTable(ctx, {
      description: 'One row per schedule that triggered the webhook (`ScheduleTriggered`).',
      columns: [
        col(
          'schedule_id',
          'text',
          "nullif(e.data.ScheduleID, '')",
          'Schedule id (may be empty)',
          'data.ScheduleID',
        ),
        col('schedule_name', 'text', 'e.data.ScheduleName', 'Schedule name', 'data.ScheduleName'),
        ...common(),
        ...tail(),
      ],
      from: `FROM ${ctx.archive.events('mydatahelps', DATA, { types: ['mydatahelps.schedule.triggered'] })} e`,
      orderBy: 'e.time, e.receivedat, e.id',
    });
  },
};
