import { BASE_COLUMNS, readJson, type Archive } from '../../src/export/open-archive.js';
import { lit } from '../../src/export/sql.js';
import { runWithinMemory, withinMemory } from '../../src/export/within-memory.js';
import type { ExportScan } from '../../src/export/types.js';
import { LIFECYCLE_FIELDS, TRIAL_FIELDS, TRIAL_TYPE } from './export-fields.js';
import { trialSortKey } from './trial-order.js';

type Row = Record<string, unknown>;
/** A query's rows; it may read the archive, so it runs {@link withinMemory}. */
export const rows = async (a: Archive, sql: string): Promise<Row[]> =>
  (await withinMemory(a.conn, () => a.conn.runAndReadAll(sql))).getRowObjectsJS() as Row[];

function inRange(a: Archive): string {
  const parts = ['true'];
  if (a.options.since) parts.push(`receivedat >= ${lit(a.options.since.toISOString())}`);
  if (a.options.until) parts.push(`receivedat <= ${lit(a.options.until.toISOString())}`);
  return parts.join(' AND ');
}

/** A trial's fields that say where it belongs (kept per trial in `lv_scan.place` when variables are not read). */
const TRIAL_PLACE = ['expId', 'expSessionNr', 'recTaskId', 'taskId', 'trialNr', 'trailNr'];

/**
 * Labvanced's events once: each trial's variables as JSON (`vars`) with its sort key, and every other
 * event whole (`ev`), which the scan keeps in `lv_scan` for the Labvanced tables.
 */
export function labvancedSource(a: Archive, variables = true): string {
  const files = a.files.get('labvanced') ?? [];
  const columns = {
    ...BASE_COLUMNS,
    data: `STRUCT(${TRIAL_FIELDS}, ${LIFECYCLE_FIELDS}${variables ? ', recData STRUCT(data JSON)' : ''})`,
  };
  const key = trialSortKey(
    'data.expSessionNr',
    'data.recTaskId',
    'coalesce(data.trialNr, data.trailNr)',
    'id',
  );
  const ev = `{${Object.keys(BASE_COLUMNS)
    .map((c) => `${c}: ${c}`)
    .join(', ')}, data: data}`;
  return `(SELECT filename, ${variables ? 'data.recData.data' : 'NULL'} AS vars, (id IS NULL OR type IS NULL) AS bad,
    coalesce(type = ${lit(TRIAL_TYPE)} AND ${inRange(a)}, false) AS trial, CASE WHEN type = ${lit(TRIAL_TYPE)} THEN ${key} END AS k,
    CASE WHEN type <> ${lit(TRIAL_TYPE)} THEN ${ev} END AS ev, data.expSessionNr AS s, hash(id) AS h,
    ${variables ? 'NULL' : `CASE WHEN type = ${lit(TRIAL_TYPE)} AND ${inRange(a)} THEN {id: id, data: {${TRIAL_PLACE.map((f) => `${f}: data.${f}`).join(', ')}}} END`} AS place
    FROM ${readJson(files, columns, ', filename=true')})`;
}

/**
 * True for a trial whose `recData.data` is there but not an object (an array, a text, a number):
 * the trial schema asks only that recData be an object, and json_keys of such a value is empty, so
 * what the trial recorded had no column. why by its first character: the reader writes the value
 * as compact JSON, and one more parse of every trial would cost the scan a good part of its time.
 */
const NOT_OBJECT = `coalesce(left(CAST(vars AS VARCHAR), 1) NOT IN ('{', 'n'), false)`;

/**
 * Reads Labvanced's files once into `lv_scan`: the lines the engine could not read, every non-trial
 * event whole, and for trials, grouped, which variables they have (in `keys`), their JSON types (`t`,
 * in the same order as `keys`) and the first trial of each group (`k`);
 * groups of trials in the range (`tr`) count them per session (`sessions`, and `nulls` for trials
 * without one) and list their ids' hashes (`ids`); `odd` marks groups with a trial whose variables
 * are not an object.
 * why `json_type(vars, '$.*')`: every variable's type in one walk of the object, in the order of
 * `json_keys`, so no variable needs a pass of its own (a sample of the first trials guessed the names
 * before; variables that only later tasks record then cost a second read of the archive).
 */
export const labvancedScan: ExportScan = async ({ archive: a, trialVariables }) => {
  const src = labvancedSource(a, trialVariables);
  const types = trialVariables ? `json_type(vars, '$.*')` : 'NULL';
  const keys = trialVariables ? 'json_keys(vars)' : 'NULL';
  // why: one pass does it all: bad lines, variables, types, the few non-trial events kept whole, and
  // the trials in the range (`tr`) per session with their ids' hashes, so that the trials need no
  // counting pass. why sessions as a histogram, not a group key: each group keeps its variables'
  // names and types, and a study of many sessions and many variables held them once per session.
  // why: grouped by the hashes of the key and type lists, not the lists: comparing lists of 20 strings per trial cost a third of the scan.
  // why: without variables (study status) each trial's place is kept instead, one row per line, so the
  // trials' table needs no second read of the archive.
  await runWithinMemory(
    a.conn,
    trialVariables
      ? `CREATE OR REPLACE TEMP TABLE lv_scan AS SELECT filename, bad, any_value(keys) AS keys, any_value(t) AS t, count(*) AS n, min(k) AS k, ev, NULL AS place,
        tr, histogram(s) FILTER (WHERE tr) AS sessions, count(*) FILTER (WHERE tr AND s IS NULL) AS nulls, list(h) FILTER (WHERE tr) AS ids, bool_or(odd) AS odd
      FROM (SELECT filename, bad, ev, CASE WHEN trial THEN k END AS k, CASE WHEN trial THEN ${keys} END AS keys, CASE WHEN trial THEN ${types} END AS t,
        trial AND NOT bad AS tr, s, h, trial AND ${NOT_OBJECT} AS odd FROM ${src})
      GROUP BY filename, bad, ev, tr, hash(keys), hash(t)`
      : `CREATE OR REPLACE TEMP TABLE lv_scan AS SELECT filename, bad, NULL AS keys, NULL AS t, 1 AS n, NULL AS k, ev, place, NULL AS odd FROM ${src}`,
  );
  // why: a non-trial line the engine read is a line (its table drops it if it lacks an id).
  const found = await rows(
    a,
    'SELECT filename, bad AND ev IS NULL AS bad, sum(n) AS n FROM lv_scan GROUP BY ALL ORDER BY filename',
  );
  return {
    lines: found.reduce((n, r) => (r['bad'] ? n : n + Number(r['n'])), 0),
    bad: found
      .filter((r) => r['bad'])
      .map((r) => ({ file: String(r['filename']), bad: Number(r['n']) })),
  };
};
