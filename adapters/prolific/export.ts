import { col, createTable } from '../../src/export/create-table.js';
import type { TableBuilder } from '../../src/export/types.js';
import { history, latest } from '../../src/export/history.js';

const DATA = {
  data: 'STRUCT(resource_id VARCHAR, event_type VARCHAR, participant_id VARCHAR, study_id VARCHAR, status VARCHAR)',
};

/** One row per Prolific submission, from `submission.status.change` events. */
export const prolificSubmissions: TableBuilder = {
  name: 'prolific_submissions',
  platform: 'prolific',
  build(ctx) {
    const src = ctx.archive.events('prolific', DATA, {
      types: ['prolific.submission.status.change'],
    });
    return createTable(ctx, {
      description:
        'One row per Prolific submission: its latest status and every status it had, in the order Prolific sent them (X-Timestamp).',
      columns: [
        col(
          'submission_id',
          'text',
          'e.data.resource_id',
          'Prolific submission id',
          'data.resource_id',
        ),
        col(
          'participant',
          'text',
          latest('e.data.participant_id'),
          'Prolific participant id',
          'data.participant_id',
          { identifier: true },
        ),
        col(
          'study_id',
          'text',
          latest('e.data.study_id'),
          'Prolific study id, when the event carries it',
          'data.study_id',
        ),
        col(
          'status',
          'text',
          latest('e.data.status'),
          'Latest status (e.g. AWAITING REVIEW, APPROVED, RETURNED)',
          'data.status',
        ),
        col(
          'status_at',
          'time',
          latest('e.time'),
          'When the latest status was sent (UTC)',
          'time (X-Timestamp)',
        ),
        col(
          'status_history',
          'text',
          history('e.data.status'),
          'Every status in order, joined by →',
          'data.status of each event',
        ),
        col('events', 'integer', 'count(*)', 'Status events received', 'events'),
      ],
      from: `FROM ${src} e GROUP BY e.data.resource_id`,
      orderBy: 'e.data.resource_id',
    });
  },
};

/** One row per Prolific study, from `study.*` events. */
export const prolificStudies: TableBuilder = {
  name: 'prolific_studies',
  platform: 'prolific',
  build(ctx) {
    const src = ctx.archive.events('prolific', DATA, {
      types: [
        'prolific.study.status.change',
        'prolific.study.progress.change',
        'prolific.study.has_high_return_rate',
      ],
    });
    const status = "type = 'prolific.study.status.change'";
    const progress = "type = 'prolific.study.progress.change'";
    const high = "type = 'prolific.study.has_high_return_rate'";
    return createTable(ctx, {
      description:
        'One row per Prolific study with any study event: its latest status, progress events seen and the high-return-rate flag.',
      columns: [
        col(
          'study_id',
          'text',
          'e.data.resource_id',
          'Prolific study id (for a high return rate on a sub-study: the parent study)',
          'data.resource_id',
        ),
        col(
          'status',
          'text',
          latest('e.data.status', status),
          'Latest study status (e.g. ACTIVE, COMPLETED)',
          'study.status.change data.status',
        ),
        col(
          'status_at',
          'time',
          latest('e.time', status),
          'When the latest status was sent (UTC)',
          'time',
        ),
        col(
          'status_history',
          'text',
          history('e.data.status', status),
          'Every study status in order, joined by →',
          'study.status.change data.status',
        ),
        col(
          'progress_events',
          'integer',
          `count(*) FILTER (WHERE ${progress})`,
          'study.progress.change events seen',
          'study.progress.change',
        ),
        col(
          'last_progress_at',
          'time',
          `max(e.time) FILTER (WHERE ${progress})`,
          'When the last progress event was sent (UTC)',
          'time',
        ),
        col(
          'high_return_rate',
          'boolean',
          `count(*) FILTER (WHERE ${high}) > 0`,
          'Whether Prolific flagged a high return rate',
          'study.has_high_return_rate',
        ),
        col(
          'high_return_rate_at',
          'time',
          `min(e.time) FILTER (WHERE ${high})`,
          'When it was first flagged (UTC)',
          'time',
        ),
      ],
      from: `FROM ${src} e GROUP BY e.data.resource_id`,
      orderBy: 'e.data.resource_id',
    });
  },
};
