import { findBadLines, type BadLine } from './bad-lines.js';
import { lit } from './sql.js';
import { LIFECYCLE_FIELDS, TRIAL_FIELDS, TRIAL_TYPE } from './labvanced-fields.js';
import { trialSortKey } from './trial-order.js';
import { addKeys, pointer, type JsonType, type KeyTable } from './variables.js';
import { BASE_COLUMNS, MAX_OBJECT_BYTES, readJson, type Archive } from './open-archive.js';

/** What one pass over the archive found: events per platform, bad lines, and the trials' variables. */
export interface ScanResult {
  files: number;
  /** Readable lines per platform (duplicates included). */
  lines: Map<string, number>;
  /** The first {@link BAD_LINES_KEPT} lines that are not events, by file:line. */
  badLines: BadLine[];
  /** How many lines the engine could not read. */
  badLineCount: number;
  trialKeys: KeyTable;
}

/** Bad lines named one by one; beyond them only counted. */
export const BAD_LINES_KEPT = 1000;

type Row = Record<string, unknown>;
const rows = async (a: Archive, sql: string): Promise<Row[]> =>
  (await a.conn.runAndReadAll(sql)).getRowObjectsJS() as Row[];
const list = (v: unknown): string[] => (Array.isArray(v) ? v.map(String) : []);

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
function labvancedSource(a: Archive, files: readonly string[], variables = true): string {
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
    CASE WHEN type <> ${lit(TRIAL_TYPE)} THEN ${ev} END AS ev,
    ${variables ? 'NULL' : `CASE WHEN type = ${lit(TRIAL_TYPE)} AND ${inRange(a)} THEN {id: id, data: {${TRIAL_PLACE.map((f) => `${f}: data.${f}`).join(', ')}}} END`} AS place
    FROM ${readJson(files, columns, ', filename=true')})`;
}

/** Adds the JSON types found at `ptrs` (in `types` lists aligned with `keys`) to the key table. */
function addTypes(table: KeyTable, keys: readonly string[], found: Row[]): void {
  for (const r of found) {
    const types = Array.isArray(r['t']) ? (r['t'] as unknown[]) : [];
    // why: a key the row lacks has no type (SQL NULL); a JSON null is 'NULL'.
    keys.forEach((k, i) => {
      const t = types[i];
      if (typeof t === 'string') table.get(k)?.types.add(t as JsonType);
    });
  }
}

/** Keys of the object at `ptr` in first-seen trial order, then their types: one pass each. */
async function discoverNested(a: Archive, src: string, ptr: string): Promise<KeyTable> {
  const table: KeyTable = new Map();
  const sigs = await rows(
    a,
    `SELECT json_keys(vars, ${lit(ptr)}) AS keys, min(k) AS k FROM ${src} WHERE trial AND json_type(vars, ${lit(ptr)}) = 'OBJECT' GROUP BY 1 ORDER BY 2`,
  );
  for (const s of sigs) addKeys(table, list(s['keys']));
  const keys = [...table.keys()];
  if (keys.length > 0)
    addTypes(
      table,
      keys,
      await rows(
        a,
        `SELECT json_type(vars, [${keys.map((k) => lit(ptr + pointer([k]))).join(', ')}]) AS t FROM ${src} WHERE trial GROUP BY 1`,
      ),
    );
  return table;
}

/** Variables of the first trials of up to 8 files spread over the study: the guess of which variables exist. */
async function sampleKeys(a: Archive, files: readonly string[]): Promise<string[]> {
  const step = Math.max(1, Math.ceil(files.length / 8));
  const keys = new Set<string>();
  for (let i = 0; i < files.length; i += step) {
    const found = await rows(
      a,
      `SELECT DISTINCT unnest(json_keys(data.recData.data)) AS key FROM (SELECT data FROM ${readJson([files[i]!], { type: 'VARCHAR', data: 'STRUCT(recData STRUCT(data JSON))' })} WHERE type = ${lit(TRIAL_TYPE)} LIMIT 100)`,
    );
    for (const r of found) keys.add(String(r['key']));
  }
  return [...keys];
}

/**
 * Reads every file once: counts lines the engine could not read (then names them by file:line),
 * and for Labvanced trials, which variables exist in first-seen order and of which JSON types.
 * why: the types are guessed from a sample of each file's first trials and checked in the same
 * pass; a second pass runs only for variables the sample missed.
 */
export async function scanArchive(
  a: Archive,
  opts: { trialVariables?: boolean } = {},
): Promise<ScanResult> {
  const variables = opts.trialVariables !== false;
  const lines = new Map<string, number>();
  const badCounts: { file: string; bad: number }[] = [];
  const trialKeys: KeyTable = new Map();
  let files = 0;
  for (const [platform, paths] of a.files) {
    files += paths.length;
    if (paths.length === 0) {
      lines.set(platform, 0);
      continue;
    }
    if (platform !== 'labvanced') {
      const counts = await rows(
        a,
        `SELECT filename, count(*) FILTER (WHERE id IS NULL OR type IS NULL) AS bad, count(*) AS n FROM ${readJson(paths, { id: 'VARCHAR', type: 'VARCHAR' }, ', filename=true')} GROUP BY 1`,
      );
      lines.set(
        platform,
        counts.reduce((n, r) => n + Number(r['n']) - Number(r['bad']), 0),
      );
      counts.forEach((r) => badCounts.push({ file: String(r['filename']), bad: Number(r['bad']) }));
      continue;
    }
    const src = labvancedSource(a, paths, variables);
    const guess = variables ? await sampleKeys(a, paths) : [];
    const types =
      guess.length > 0
        ? `json_type(vars, [${guess.map((k) => lit(pointer([k]))).join(', ')}])`
        : 'NULL';
    const keys = variables ? 'json_keys(vars)' : 'NULL';
    // why: one pass does it all: bad lines, variables, types, and the few non-trial events kept whole.
    // why: grouped by the hashes of the key and type lists, not the lists: comparing lists of 20 strings per trial cost a third of the scan.
    // why: without variables (study status) each trial's place is kept instead, one row per line, so the
    // trials' table needs no second read of the archive.
    await a.conn.run(
      variables
        ? `CREATE OR REPLACE TEMP TABLE lv_scan AS SELECT filename, bad, any_value(keys) AS keys, any_value(t) AS t, count(*) AS n, min(k) AS k, ev, NULL AS place
      FROM (SELECT filename, bad, ev, CASE WHEN trial THEN k END AS k, CASE WHEN trial THEN ${keys} END AS keys, CASE WHEN trial THEN ${types} END AS t FROM ${src})
      GROUP BY filename, bad, ev, hash(keys), hash(t)`
        : `CREATE OR REPLACE TEMP TABLE lv_scan AS SELECT filename, bad, NULL AS keys, NULL AS t, 1 AS n, NULL AS k, ev, place FROM ${src}`,
    );
    const found = await rows(
      a,
      variables
        ? 'SELECT filename, bad, keys, t, n, k FROM lv_scan WHERE ev IS NULL ORDER BY k NULLS LAST'
        : 'SELECT filename, bad, NULL AS keys, NULL AS t, sum(n) AS n, NULL AS k FROM lv_scan WHERE ev IS NULL GROUP BY filename, bad',
    );
    for (const r of found) {
      if (r['bad']) badCounts.push({ file: String(r['filename']), bad: Number(r['n']) });
      else lines.set(platform, (lines.get(platform) ?? 0) + Number(r['n']));
      if (r['keys'] !== null && r['keys'] !== undefined) addKeys(trialKeys, list(r['keys']));
    }
    lines.set(
      platform,
      (lines.get(platform) ?? 0) +
        Number(
          (await rows(a, 'SELECT coalesce(sum(n), 0) AS n FROM lv_scan WHERE ev IS NOT NULL'))[0]?.[
            'n'
          ] ?? 0,
        ),
    );
    addTypes(
      trialKeys,
      guess,
      found.filter((r) => r['keys'] !== null && r['keys'] !== undefined),
    );
    const missed = [...trialKeys.keys()].filter((k) => !guess.includes(k));
    // why: more passes only when the sample missed a variable, or to look inside object variables.
    if (missed.length > 0)
      addTypes(
        trialKeys,
        missed,
        await rows(
          a,
          `SELECT json_type(vars, [${missed.map((k) => lit(pointer([k]))).join(', ')}]) AS t FROM ${src} WHERE trial GROUP BY 1`,
        ),
      );
    for (const [key, facts] of trialKeys)
      if (facts.types.has('OBJECT')) facts.nested = await discoverNested(a, src, pointer([key]));
  }
  const badLines: BadLine[] = [];
  const bad = badCounts.filter((x) => x.bad > 0).sort((x, y) => x.file.localeCompare(y.file));
  // why: a ruined archive must not fill memory with its own error list; the count stays exact.
  for (const f of bad)
    badLines.push(
      ...(await findBadLines(
        f.file,
        MAX_OBJECT_BYTES,
        Math.max(0, BAD_LINES_KEPT - badLines.length),
      )),
    );
  return { files, lines, badLines, badLineCount: bad.reduce((n, f) => n + f.bad, 0), trialKeys };
}
