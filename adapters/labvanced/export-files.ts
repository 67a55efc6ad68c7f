import { col, createTable } from '../../src/export/create-table.js';
import { blobPath, idOrder, lit } from '../../src/export/sql.js';
import type { TableBuilder } from '../../src/export/types.js';
import { labvancedEvents, LIFECYCLE } from './export-events.js';

/** One row per uploaded file (`/file_upload`); the bytes stay in the blob store. */
export const labvancedFiles: TableBuilder = {
  name: 'labvanced_files',
  platform: 'labvanced',
  async build(ctx) {
    await labvancedEvents(ctx);
    return createTable(ctx, {
      description:
        'One row per file uploaded by the Labvanced player (`/file_upload`). The file itself is at `blob_path`: in the data directory, or in the S3 bucket.',
      columns: [
        col('session', 'text', 'e.session', 'Labvanced recording session', 'data.expSessionNr'),
        col(
          'participant',
          'text',
          'coalesce(e.participantid, p.participant)',
          "The session's participant",
          'participantid of the session',
          { identifier: true, pseudoExpr: 'coalesce(pseudo(e.participantid), p.participant)' },
        ),
        col(
          'file_name',
          'text',
          'e.data.fileName',
          'File name as stored (the participant-chosen name made safe)',
          'data.fileName',
          {
            mentions: true,
            pseudoExpr:
              'unids(e.data.fileName, (SELECT ids FROM lv_ids x WHERE x.session = e.session))',
          },
        ),
        col(
          'file_guid',
          'text',
          'e.id',
          'The file_guid replied to the player (the event id)',
          'id',
        ),
        col('size', 'integer', 'e.data.file.size', 'Size in bytes', 'data.file.size'),
        col(
          'sha256',
          'text',
          'e.data.file.sha256',
          'SHA-256 of the bytes (hex)',
          'data.file.sha256',
        ),
        col(
          'content_type',
          'text',
          'e.data.file.contentType',
          'Content type sent by the browser',
          'data.file.contentType',
        ),
        col(
          'blob_path',
          'text',
          blobPath('e.data.file.uri'),
          'Where the file is: its path relative to the data directory, or its s3://bucket/key',
          'data.file.uri',
        ),
        col(
          'received_at',
          'time',
          'e.receivedat',
          'When the upload was received (UTC)',
          'receivedat',
        ),
      ],
      from: `FROM lv_events e LEFT JOIN lv_people p ON p.session = e.session WHERE e.type = ${lit(LIFECYCLE.file)}`,
      orderBy: `${idOrder('e.session')}, e.receivedat, e.id`,
    });
  },
};
