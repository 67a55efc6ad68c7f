import { col, createTable } from '../../src/export/create-table.js';
import type { ColumnSpec, TableBuilder } from '../../src/export/types.js';
import { labvancedEvents, namePseudonyms } from './export-events.js';
import { TRIAL_TYPE } from './export-fields.js';
import { countTableTrials, countTrials } from './trial-counts.js';
import { trialKeys } from './trial-keys.js';
import { trialOrder } from './trial-order.js';
import { trialVariables } from './trial-variables.js';

const FIXED = [
  'session',
  'participant',
  'study',
  'task_id',
  'task_name',
  'rec_task_id',
  'trial_nr',
  'time',
  'received_at',
  'event_id',
];

/** One row per `labvanced.trial.recorded` event, then one column per recorded variable. */
export const labvancedTrials: TableBuilder = {
  name: 'labvanced_trials',
  platform: 'labvanced',
  async build(ctx) {
    await labvancedEvents(ctx);
    const narrow = ctx.trialVariables === false;
    // why: `study status` needs each trial's place (session, task, number), not its variables, which cost most of the read.
    const { keys, rest } = narrow ? { keys: new Map(), rest: [] } : await trialKeys(ctx.archive);
    // why both names: the session's identifiers (--pseudonymize) ride along the sorted rows as
    // t.lv_ids when the variables are read as JSON (sorted first, below), else they are joined, i.ids.
    const ids = ctx.pseudonymize ? { sorted: 't.lv_ids', joined: 'i.ids' } : undefined;
    const v = trialVariables(keys, rest, FIXED, ctx.wideIntegers, ids);
    // why: without variables the scan kept each trial's place (lv_scan.place), so the archive is not read a second time.
    const source = narrow
      ? '(SELECT place.id AS id, place.data AS data FROM lv_scan WHERE place IS NOT NULL)'
      : ctx.archive.events('labvanced', { data: v.data }, { types: [TRIAL_TYPE], dedupe: false });
    const t = (f: string) => `t.data.${f}`;
    // why sorted first in JSON mode: the rows are sorted while they are narrow (the variables as
    // one JSON text) and only then split into columns; rows of hundreds of columns did not sort
    // within the memory limit, narrow ones do.
    const sortedFirst = v.values !== undefined;
    const person = sortedFirst ? 't.lv_participant' : 'p.participant';
    // why: without variables (study status) only where each trial is matters.
    const place = new Set([
      'session',
      'task_id',
      'task_name',
      'rec_task_id',
      'trial_nr',
      'event_id',
    ]);
    const keep = (c: ColumnSpec) => !narrow || place.has(c.name);
    const counted = narrow ? undefined : await countTrials(ctx);
    const view = counted?.copies === 0;
    const joins = `LEFT JOIN lv_people p ON p.session = t.data.expSessionNr LEFT JOIN lv_tasks k ON k.session = t.data.expSessionNr AND k.rec_task_id = t.data.recTaskId${ids ? ' LEFT JOIN lv_ids i ON i.session = t.data.expSessionNr' : ''}`;
    // why: without variables the table is only queried (study status counts distinct trial numbers), never written:
    // sorting it and removing copies of an event cost most of its time at 2 million trials.
    const order = narrow
      ? ''
      : trialOrder(
          t('expSessionNr'),
          t('recTaskId'),
          `coalesce(${t('trialNr')}, ${t('trailNr')})`,
          't.id',
          // why: copies of an event (one id) are ordered only to keep the earliest; without copies the id decides.
          view ? '' : 't.receivedat, t.requestid',
        );
    const built = await createTable(ctx, {
      description:
        'One row per recorded trial (`/recordTrial`), then one column per variable of `recData.data` in first-seen order.',
      columns: [
        col(
          'session',
          'text',
          t('expSessionNr'),
          'Labvanced recording session of the participant',
          'data.expSessionNr',
        ),
        col(
          'participant',
          'text',
          `coalesce(t.participantid, ${person})`,
          "Participant: the trial's or else its session's subject code or crowdsourcing id",
          'participantid (subject_code, var_data.crowdsourcinSubjId)',
          { identifier: true, pseudoExpr: `coalesce(pseudo(t.participantid), ${person})` },
        ),
        col('study', 'text', t('expId'), 'Labvanced study id', 'data.expId'),
        col('task_id', 'text', t('taskId'), 'Task id as defined in the editor', 'data.taskId'),
        col(
          'task_name',
          'text',
          sortedFirst ? 't.lv_task_name' : 'k.task_name',
          'Task name, from the task start (`/recordStartTask`) of the same recording task',
          'labvanced.task.started data.taskName',
        ),
        col(
          'rec_task_id',
          'text',
          t('recTaskId'),
          'Recording task id (differs per participant)',
          'data.recTaskId',
        ),
        col(
          'trial_nr',
          'integer',
          `TRY_CAST(coalesce(${t('trialNr')}, ${t('trailNr')}) AS BIGINT)`,
          'Trial number',
          'data.trialNr (data.trailNr)',
        ),
        col('time', 'time', 't.time', 'When the event happened (UTC)', 'time'),
        col(
          'received_at',
          'time',
          't.receivedat',
          'When the gateway received the trial (UTC)',
          'receivedat',
        ),
        col('event_id', 'text', 't.id', 'Event id (one row per id)', 'id'),
        ...v.columns,
      ].filter(keep),
      from: sortedFirst
        ? `FROM (SELECT *, ${v.values} FROM (SELECT t.*, p.participant AS lv_participant, k.task_name AS lv_task_name${ids ? ', i.ids AS lv_ids' : ''} FROM ${source} t ${joins} ORDER BY ${order}) t) t`
        : `FROM ${source} t ${joins}`,
      orderBy: sortedFirst ? '' : order,
      namePseudonyms: await namePseudonyms(ctx),
      ...(view ? { view: { rows: counted.rows } } : !narrow && { dedupe: 'event_id' }),
    });
    if (!view) await countTableTrials(ctx);
    return built;
  },
};
