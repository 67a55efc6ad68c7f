import type { DuckDBConnection } from '@duckdb/node-api';
import { lit } from '../../src/export/sql.js';
import { pointer } from '../../src/export/variables.js';
import { num, rows, str } from '../../src/study/facts-sql.js';
import type { StudyDef } from '../../src/study/types.js';

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

/** The study's Labvanced sessions, each with its participant (the study's linking fields, first present wins) and its tasks. */
export async function readSessions(
  conn: DuckDBConnection,
  study: StudyDef,
): Promise<SessionFact[]> {
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
