import { col, createTable } from '../../src/export/create-table.js';
import type { TableBuilder } from '../../src/export/types.js';
import { history, latest } from '../../src/export/history.js';

const DATA = {
  data: 'STRUCT(status VARCHAR, uploadId VARCHAR, studyId VARCHAR, subjectId VARCHAR, message VARCHAR, firstEpochUTC VARCHAR, lastEpochUTC VARCHAR)',
  epochstart: 'VARCHAR',
  epochend: 'VARCHAR',
};

/** One row per ActiGraph CentrePoint upload, from `upload` events (started, completed, error). */
export const actigraphUploads: TableBuilder = {
  name: 'actigraph_uploads',
  platform: 'actigraph',
  build(ctx) {
    const src = `(SELECT * FROM ${ctx.archive.events('actigraph', DATA)} WHERE type LIKE 'actigraph.upload.%')`;
    return createTable(ctx, {
      description:
        'One row per CentrePoint upload (study + upload id): its latest status and every status in order.',
      columns: [
        col('study_id', 'text', 'e.data.studyId', 'CentrePoint study id', 'data.studyId'),
        col('upload_id', 'text', 'e.data.uploadId', 'Upload id', 'data.uploadId'),
        col(
          'subject_id',
          'text',
          latest('e.data.subjectId'),
          'CentrePoint subject id (the participant)',
          'data.subjectId',
          { identifier: true },
        ),
        col(
          'status',
          'text',
          latest('lower(e.data.status)'),
          'Latest status: started, completed or error',
          'data.status',
        ),
        col(
          'status_at',
          'time',
          latest('e.time'),
          'When the latest status was received (UTC)',
          'time',
        ),
        col(
          'status_history',
          'text',
          history('lower(e.data.status)'),
          'Every status in order, joined by →',
          'data.status of each event',
        ),
        col(
          'first_epoch_utc',
          'time',
          latest('e.epochstart'),
          'First epoch of the uploaded data (UTC)',
          'data.firstEpochUTC',
        ),
        col(
          'last_epoch_utc',
          'time',
          latest('e.epochend'),
          'Last epoch of the uploaded data (UTC)',
          'data.lastEpochUTC',
        ),
        col(
          'message',
          'text',
          latest('e.data.message'),
          'Error text of an upload that failed',
          'data.message',
          {
            mentions: true,
            // why: CentrePoint's error text can name the subject.
            pseudoExpr: `unids(${latest('e.data.message')}, list(DISTINCT e.data.subjectId ORDER BY length(e.data.subjectId) DESC, e.data.subjectId) FILTER (WHERE e.data.subjectId IS NOT NULL))`,
          },
        ),
        col('events', 'integer', 'count(*)', 'Upload events received', 'events'),
      ],
      from: `FROM ${src} e GROUP BY e.data.studyId, e.data.uploadId`,
      orderBy:
        'TRY_CAST(e.data.studyId AS DOUBLE) NULLS LAST, e.data.studyId, TRY_CAST(e.data.uploadId AS DOUBLE) NULLS LAST, e.data.uploadId',
    });
  },
};
