import { col, createTable } from '../../src/export/create-table.js';
import type { TableBuilder } from '../../src/export/types.js';
import { blobPath } from '../../src/export/sql.js';
import { history, latest } from '../../src/export/history.js';

const DATA = {
  data: 'STRUCT(studyId VARCHAR, uploadId VARCHAR, format VARCHAR, entries JSON, file STRUCT(id VARCHAR, name VARCHAR, contentType VARCHAR, size BIGINT, sha256 VARCHAR, uri VARCHAR))',
};
const STORED = "type = 'sensorlogger.recording.stored'";

/** One row per Sensor Logger upload: the notice, and the downloaded recording when the fetch sink stored it. */
export const sensorloggerUploads: TableBuilder = {
  name: 'sensorlogger_uploads',
  platform: 'sensorlogger',
  build(ctx) {
    const src = ctx.archive.events('sensorlogger', DATA, {
      types: ['sensorlogger.recording.uploaded', 'sensorlogger.recording.stored'],
    });
    return createTable(ctx, {
      description:
        'One row per Sensor Logger upload (study + upload id): when it was announced and, with the `sensorlogger-fetch` sink, the stored recording.',
      columns: [
        col('study_id', 'text', 'e.data.studyId', 'Sensor Logger study id', 'data.studyId'),
        col('upload_id', 'text', 'e.data.uploadId', 'Upload id', 'data.uploadId'),
        col(
          'status',
          'text',
          latest("replace(e.type, 'sensorlogger.recording.', '')"),
          'Latest step: uploaded (announced) or stored (downloaded)',
          'type',
        ),
        col(
          'status_history',
          'text',
          history("replace(e.type, 'sensorlogger.recording.', '')"),
          'Every step in order, joined by →',
          'type',
        ),
        col(
          'uploaded_at',
          'time',
          "min(e.time) FILTER (WHERE e.type = 'sensorlogger.recording.uploaded')",
          'When the upload was announced (UTC)',
          'sensorlogger.recording.uploaded time',
        ),
        col(
          'stored_at',
          'time',
          `min(e.time) FILTER (WHERE ${STORED})`,
          'When the recording was stored (UTC)',
          'sensorlogger.recording.stored time',
        ),
        col(
          'file_name',
          'text',
          latest('e.data.file.name', STORED),
          'Recording file name',
          'data.file.name',
        ),
        col(
          'size',
          'integer',
          latest('e.data.file.size', STORED),
          'Size in bytes',
          'data.file.size',
        ),
        col(
          'sha256',
          'text',
          latest('e.data.file.sha256', STORED),
          'SHA-256 of the bytes (hex)',
          'data.file.sha256',
        ),
        col('format', 'text', latest('e.data.format', STORED), 'zip, or other', 'data.format'),
        col(
          'entries',
          'integer',
          `json_array_length(${latest('e.data.entries', STORED)})`,
          'Files inside the zip (listed up to 1000)',
          'data.entries',
        ),
        col(
          'blob_path',
          'text',
          blobPath(latest('e.data.file.uri', STORED)),
          'Where the recording is: its path relative to the data directory, or its s3://bucket/key',
          'data.file.uri',
        ),
      ],
      from: `FROM ${src} e GROUP BY e.data.studyId, e.data.uploadId`,
      orderBy: 'e.data.studyId, e.data.uploadId',
    });
  },
};
