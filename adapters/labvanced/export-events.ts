import { LIFECYCLE, LIFECYCLE_DATA } from './export-fields.js';
import { NAMED_IDS_MACRO } from './identifier-names.js';
import { BASE_COLUMNS, readJson } from '../../src/export/open-archive.js';
import { lit } from '../../src/export/sql.js';
import type { TableContext } from '../../src/export/types.js';

export { LIFECYCLE };

/**
 * `iso_time(x)`: a Labvanced time (`2020-12-10 14:03:22+01` or UNIX seconds or milliseconds) as ISO
 * 8601 UTC text, like the adapter's `toTime`; anything else stays as sent.
 */
const ISO_TIME_MACRO = `CREATE OR REPLACE MACRO iso_time(x) AS CASE
  WHEN x IS NULL THEN NULL
  WHEN regexp_matches(x, '^[0-9]+(\\.[0-9]+)?$') THEN strftime(timezone('UTC', to_timestamp(CASE WHEN CAST(x AS DOUBLE) < 1e11 THEN CAST(x AS DOUBLE) ELSE CAST(x AS DOUBLE) / 1000 END)), '%Y-%m-%dT%H:%M:%S.%gZ')
  ELSE coalesce(strftime(timezone('UTC', TRY_CAST(x AS TIMESTAMPTZ)), '%Y-%m-%dT%H:%M:%S.%gZ'), x) END`;

/** Whether a temporary table of that name exists in this export. */
export async function exists(ctx: TableContext, table: string): Promise<boolean> {
  const r = await ctx.conn.runAndReadAll(
    `SELECT count(*) FROM duckdb_tables() WHERE table_name = ${lit(table)}`,
  );
  return Number(r.getRowsJS()[0]?.[0]) > 0;
}

/**
 * Materialises the helper tables the Labvanced tables share (once per export): `lv_events` (every
 * non-trial event, one row per id, from the scan's `lv_scan`), `lv_people` (session → participant,
 * already pseudonymised under --pseudonymize), `lv_ids` (session → its raw identifiers, only under
 * --pseudonymize) and `lv_tasks` (session + recTaskId → task name).
 */
export async function labvancedEvents(ctx: TableContext): Promise<void> {
  if (await exists(ctx, 'lv_events')) return;
  await ctx.conn.run(ISO_TIME_MACRO);
  const { since, until } = ctx.archive.options;
  const range =
    [
      since && `receivedat >= ${lit(since.toISOString())}`,
      until && `receivedat <= ${lit(until.toISOString())}`,
    ]
      .filter(Boolean)
      .join(' AND ') || 'true';
  const cols = Object.keys(BASE_COLUMNS).join(', ');
  const scanned = await exists(ctx, 'lv_scan');
  const source = scanned
    ? `(SELECT ${cols}, data FROM (SELECT unnest(ev) FROM lv_scan WHERE ev IS NOT NULL) WHERE id IS NOT NULL AND ${range})`
    : ctx.archive.events('labvanced', { data: LIFECYCLE_DATA }, { dedupe: false });
  // why every time: a session's identifiers come from its first events (the subject code from
  // /startFirstPlayerSession); with --since after them, its later file names and trials in the
  // range still carry them, and only identifiers known here are replaced there.
  const files = ctx.archive.files.get('labvanced') ?? [];
  const everyEvent = scanned
    ? `(SELECT ${cols}, data FROM (SELECT unnest(ev) FROM lv_scan WHERE ev IS NOT NULL) WHERE id IS NOT NULL)`
    : files.length > 0
      ? `(SELECT * FROM ${readJson(files, { ...BASE_COLUMNS, data: LIFECYCLE_DATA })} WHERE id IS NOT NULL)`
      : source;
  // why: at-least-once delivery can archive one event twice; the earliest copy stands for it.
  await ctx.conn
    .run(`CREATE TEMP TABLE lv_events AS SELECT *, data.expSessionNr AS session FROM ${source}
    WHERE type IN (${Object.values(LIFECYCLE).map(lit).join(', ')}) QUALIFY row_number() OVER (PARTITION BY id ORDER BY receivedat, requestid, data) = 1`);
  const who = ctx.pseudonymize ? 'pseudo(participantid)' : 'participantid';
  // why: trials rarely carry the participant; the session's first event that names one does.
  await ctx.conn
    .run(`CREATE TEMP TABLE lv_people AS SELECT session, arg_min(${who}, (receivedat, id)) AS participant
    FROM lv_events WHERE participantid IS NOT NULL AND session IS NOT NULL GROUP BY session`);
  // why: free text of a session (a file name, a meta field) can carry its participant's identifiers;
  // under --pseudonymize `unids(text, ids)` replaces each by its pseudonym, longest first.
  if (ctx.pseudonymize) await ctx.conn.run(NAMED_IDS_MACRO);
  if (ctx.pseudonymize)
    await ctx.conn
      .run(`CREATE TEMP TABLE lv_ids AS SELECT session, list(DISTINCT v ORDER BY length(v) DESC, v) AS ids
    FROM (SELECT data.expSessionNr AS session, unnest([participantid, data.subject_code, data.token, json_extract_string(data.var_data, '/crowdsourcinSubjId')]) AS v
      FROM ${everyEvent} WHERE type IN (${Object.values(LIFECYCLE).map(lit).join(', ')}) AND data.expSessionNr IS NOT NULL) WHERE v IS NOT NULL GROUP BY session`);
  await ctx.conn
    .run(`CREATE TEMP TABLE lv_tasks AS SELECT session, data.recTaskId AS rec_task_id, arg_min(data.taskName, (receivedat, id)) AS task_name
    FROM lv_events WHERE type = ${lit(LIFECYCLE.task)} GROUP BY ALL`);
}

/**
 * Under --pseudonymize, every identifier of every session (`lv_ids`) and its pseudonym, for the
 * names of columns (`TableDef.namePseudonyms`); empty otherwise. why: a trial variable, a meta field
 * or an object's field can be named after the participant's subject code or crowdsourcing id.
 */
export async function namePseudonyms(ctx: TableContext): Promise<Map<string, string>> {
  if (!ctx.pseudonymize) return new Map();
  const r = await ctx.conn.runAndReadAll(
    'SELECT v, pseudo(v) FROM (SELECT DISTINCT unnest(ids) AS v FROM lv_ids)',
  );
  return new Map(r.getRowsJS().map(([id, p]) => [String(id), String(p)]));
}
