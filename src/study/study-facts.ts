import type { DuckDBConnection } from '@duckdb/node-api';
import type { BadLine } from '../export/bad-lines.js';
import { buildTables } from '../export/build-tables.js';
import type { Archive } from '../export/open-archive.js';
import { fileList, lit } from '../export/sql.js';
import { pointer } from '../export/variables.js';
import type { StudyDef } from './study-config.js';

/** One Prolific submission, from `prolific_submissions`. */
export interface SubmissionFact {
  submission: string;
  participant: string | null;
  status: string | null;
  statusAt: string | null;
  history: string | null;
  studyId: string | null;
}
/** One recording task of a Labvanced session: its trials and the trial numbers missing below the last one. */
export interface TaskFact {
  taskId: string | null;
  taskName: string | null;
  recTaskId: string | null;
  trials: number;
  last: number | null;
  gaps: number[];
  gapCount: number;
}
/** One Labvanced session, from `labvanced_sessions` and `labvanced_trials`. */
export interface SessionFact {
  session: string;
  participant: string | null;
  status: string | null;
  trials: number;
  files: number;
  error: string | null;
  assignedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  failedAt: string | null;
  tasks: TaskFact[];
}
/** Per participant of a platform counted by items (MyDataHelps surveys, ActiGraph uploads). */
export interface CountFact {
  participant: string | null;
  count: number;
  done: number;
  last: string | null;
  status: string | null;
}

/** What the archive says about a study, per platform, before anyone is classified. */
export interface StudyFacts {
  submissions: SubmissionFact[];
  sessions: SessionFact[];
  surveys: CountFact[];
  uploads: CountFact[];
  /** Sensor Logger uploads by status (its webhook names no participant). */
  sensorlogger: Record<string, number>;
  /** Submissions already approved by `study approve` (`studyhook.submission.approved` in the archive). */
  approved: Set<string>;
  /** Archived event lines per platform (copies included), and the newest `receivedat` per platform. */
  events: Record<string, number>;
  lastEvent: Record<string, string | null>;
  badLines: BadLine[];
  badLineCount: number;
  /** Events received per hour (`YYYY-MM-DDTHH`) per platform, over the hours asked for (empty unless asked). */
  hourly: { hour: string; platform: string; events: number }[];
}

/** The event type `study approve` records its approvals with. */
export const APPROVED_TYPE = 'studyhook.submission.approved';

type Row = Record<string, unknown>;
async function rows(conn: DuckDBConnection, sql: string): Promise<Row[]> {
  return (await conn.runAndReadAll(sql)).getRowObjectsJS() as Row[];
}
const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));
const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

/** A Labvanced linking field as SQL over `lv_events` (alias e). */
function labvancedField(field: string): string {
  const [head, ...rest] = field.split('.');
  if (head === 'var_data' || head === 'survey_data')
    return `json_extract_string(e.data.${head}, ${lit(pointer([rest.join('.')]))})`;
  if (head === 'token') return 'e.data.token';
  return 'e.data.subject_code';
}

/** First present wins: each field's first value in the session (by arrival), then the fields in the configured order. */
function firstPresent(exprs: readonly string[]): string {
  const each = exprs.map(
    (x) => `arg_min(${x}, (e.receivedat, e.id)) FILTER (WHERE ${x} IS NOT NULL)`,
  );
  return each.length === 1 ? each[0]! : `coalesce(${each.join(', ')})`;
}

async function sessions(conn: DuckDBConnection, study: StudyDef): Promise<SessionFact[]> {
  const who = firstPresent((study.participant.labvanced ?? []).map(labvancedField));
  await conn.run(
    `CREATE OR REPLACE TEMP TABLE study_lv_people AS SELECT e.session, ${who} AS participant FROM lv_events e WHERE e.session IS NOT NULL GROUP BY e.session`,
  );
  // why: trial numbers missing below the last one recorded are gaps (a lost /recordTrial); listed up to 10 per task.
  const tasks = await rows(
    conn,
    `WITH g AS (SELECT session, rec_task_id, any_value(task_id) AS task_id, any_value(task_name) AS task_name,
      count(DISTINCT trial_nr) AS n, max(trial_nr) AS last, list(DISTINCT trial_nr) AS nums FROM labvanced_trials GROUP BY session, rec_task_id)
    SELECT session, rec_task_id, task_id, task_name, n, last,
      CASE WHEN last > n THEN list_filter(range(1, least(last, 100000) + 1), x -> NOT list_contains(nums, x))[1:10] END AS gaps,
      CASE WHEN last > n THEN last - n ELSE 0 END AS gap_count
    FROM g ORDER BY session, TRY_CAST(rec_task_id AS DOUBLE) NULLS LAST, rec_task_id`,
  );
  const bySession = new Map<string, TaskFact[]>();
  for (const t of tasks) {
    const list = bySession.get(String(t['session'])) ?? [];
    list.push({
      taskId: str(t['task_id']),
      taskName: str(t['task_name']),
      recTaskId: str(t['rec_task_id']),
      trials: num(t['n']),
      last: t['last'] === null ? null : num(t['last']),
      gaps: Array.isArray(t['gaps']) ? (t['gaps'] as unknown[]).map(Number) : [],
      gapCount: num(t['gap_count']),
    });
    bySession.set(String(t['session']), list);
  }
  const found = await rows(
    conn,
    `SELECT s.session, p.participant, s.status, s.trials, s.files, s.error_message, s.assigned_at, s.started_at, s.finished_at, s.failed_at
    FROM labvanced_sessions s LEFT JOIN study_lv_people p ON p.session = s.session ORDER BY TRY_CAST(s.session AS DOUBLE) NULLS LAST, s.session`,
  );
  // why: a session's trials are its distinct trial numbers per task: a copy of an event archived twice, or a trial sent again, counts once.
  return found.map((r) => ({
    session: String(r['session']),
    participant: str(r['participant']),
    status: str(r['status']),
    trials: (bySession.get(String(r['session'])) ?? []).reduce((n, t) => n + t.trials, 0),
    files: num(r['files']),
    error: str(r['error_message']),
    assignedAt: str(r['assigned_at']),
    startedAt: str(r['started_at']),
    finishedAt: str(r['finished_at']),
    failedAt: str(r['failed_at']),
    tasks: bySession.get(String(r['session'])) ?? [],
  }));
}

async function counts(conn: DuckDBConnection, sql: string): Promise<CountFact[]> {
  return (await rows(conn, sql)).map((r) => ({
    participant: str(r['participant']),
    count: num(r['n']),
    done: num(r['done']),
    last: str(r['last']),
    status: str(r['status']),
  }));
}

/** The newest `receivedat` of a platform: only its last day's file is read (files are named by the day received). */
async function lastEvent(archive: Archive, platform: string): Promise<string | null> {
  const files = archive.files.get(platform) ?? [];
  for (let i = files.length - 1; i >= 0; i--) {
    const r = await rows(
      archive.conn,
      `SELECT max(receivedat) AS m FROM read_json(${lit(files[i]!)}, format='newline_delimited', ignore_errors=true, columns={receivedat: 'VARCHAR'})`,
    );
    const m = str(r[0]?.['m']);
    if (m) return m;
  }
  return null;
}

/**
 * Events per hour per platform since `since`: only the files of the days from `since` on are read
 * (files are named by the day received), and only their `receivedat`.
 */
async function hourlyEvents(archive: Archive, since: Date): Promise<StudyFacts['hourly']> {
  const day = since.toISOString().slice(0, 10);
  const out: StudyFacts['hourly'] = [];
  for (const [platform, files] of archive.files) {
    const recent = files.filter(
      (f) => (/(\d{4}-\d{2}-\d{2})\.jsonl$/.exec(f)?.[1] ?? '9999') >= day,
    );
    if (recent.length === 0) continue;
    const found = await rows(
      archive.conn,
      `SELECT substr(receivedat, 1, 13) AS h, count(*) AS n FROM read_json(${fileList(recent)}, format='newline_delimited', ignore_errors=true, columns={receivedat: 'VARCHAR', id: 'VARCHAR'})
      WHERE id IS NOT NULL AND receivedat >= ${lit(since.toISOString())} GROUP BY 1 ORDER BY 1`,
    );
    for (const r of found) out.push({ hour: String(r['h']), platform, events: num(r['n']) });
  }
  return out;
}

/**
 * Reads what the study's archive says, with the export's engine and tables: the tables of the
 * platforms present are built (trials without their variables), then queried per unit
 * (submission, session, survey, upload) with the participant each unit names.
 */
export async function readStudyFacts(
  archive: Archive,
  study: StudyDef,
  step?: (label: string) => void,
  hourlySince?: Date,
): Promise<StudyFacts> {
  const only = [
    'labvanced_trials',
    'labvanced_sessions',
    'prolific_submissions',
    'mydatahelps_surveys',
    'actigraph_uploads',
    'sensorlogger_uploads',
  ];
  const { scan } = await buildTables(archive, {
    pseudonymize: false,
    only,
    trialVariables: false,
    ...(step && { step }),
  });
  const conn = archive.conn;
  const has = (p: string) => archive.files.has(p);
  step?.('classifying participants');
  const submissions = !has('prolific')
    ? []
    : (await rows(conn, 'SELECT * FROM prolific_submissions')).map((r) => ({
        submission: String(r['submission_id']),
        participant: str(r['participant']),
        status: str(r['status']),
        statusAt: str(r['status_at']),
        history: str(r['status_history']),
        studyId: str(r['study_id']),
      }));
  const approved = new Set<string>();
  if (has('prolific')) {
    for (const r of await rows(
      conn,
      `SELECT DISTINCT subject FROM ${archive.events('prolific', { data: 'JSON' }, { types: [APPROVED_TYPE] })} WHERE subject IS NOT NULL`,
    ))
      approved.add(String(r['subject']));
  }
  const mdhField = (f: string) => (f === 'ParticipantID' ? 'participant_id' : 'participant');
  const surveys = !has('mydatahelps')
    ? []
    : await counts(
        conn,
        `SELECT coalesce(${(study.participant.mydatahelps ?? ['ParticipantIdentifier']).map(mdhField).join(', ')}) AS participant,
    count(*) AS n, count(*) AS done, max(received_at) AS last, NULL AS status FROM mydatahelps_surveys WHERE NOT test_mode GROUP BY 1 ORDER BY 1`,
      );
  const uploads = !has('actigraph')
    ? []
    : await counts(
        conn,
        `SELECT subject_id AS participant, count(*) AS n, count(*) FILTER (WHERE status = 'completed') AS done,
    max(status_at) AS last, arg_max(status, status_at) AS status FROM actigraph_uploads GROUP BY 1 ORDER BY 1`,
      );
  const sensorlogger: Record<string, number> = {};
  if (has('sensorlogger'))
    for (const r of await rows(
      conn,
      'SELECT status, count(*) AS n FROM sensorlogger_uploads GROUP BY 1 ORDER BY 1',
    ))
      sensorlogger[String(r['status'])] = num(r['n']);
  const events: Record<string, number> = {};
  const last: Record<string, string | null> = {};
  for (const p of archive.files.keys()) {
    events[p] = scan.lines.get(p) ?? 0;
    last[p] = await lastEvent(archive, p);
  }
  return {
    submissions,
    sessions: has('labvanced') ? await sessions(conn, study) : [],
    surveys,
    uploads,
    sensorlogger,
    approved,
    events,
    lastEvent: last,
    badLines: scan.badLines,
    badLineCount: scan.badLineCount,
    hourly: hourlySince ? await hourlyEvents(archive, hourlySince) : [],
  };
}
