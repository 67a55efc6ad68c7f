import type { TableContext } from '../../src/export/types.js';

/**
 * `lv_trial_counts` (session → trials) read from the trials' source before their table is built,
 * and how many of those trials repeat an event id. why: with no copy, the trials need no table:
 * their rows are known, and they are written straight from the archive.
 */
export async function countTrials(
  ctx: TableContext,
  source: string,
): Promise<{ rows: number; copies: number }> {
  await ctx.conn.run(`CREATE OR REPLACE TEMP TABLE lv_trial_sets AS
    SELECT t.data.expSessionNr AS session, count(*) AS n, count(DISTINCT t.id) AS ids, grouping(t.data.expSessionNr) = 1 AS total
    FROM ${source} t GROUP BY GROUPING SETS ((t.data.expSessionNr), ())`);
  await ctx.conn.run(
    'CREATE OR REPLACE TEMP TABLE lv_trial_counts AS SELECT session, n FROM lv_trial_sets WHERE NOT total',
  );
  const all = (
    await ctx.conn.runAndReadAll('SELECT n, ids FROM lv_trial_sets WHERE total')
  ).getRowObjectsJS()[0];
  const rows = Number(all?.['n'] ?? 0);
  return { rows, copies: rows - Number(all?.['ids'] ?? 0) };
}

/** `lv_trial_counts` from the trials' table, when it was built (copies removed, or only queried). */
export async function countTableTrials(ctx: TableContext): Promise<void> {
  await ctx.conn.run(
    'CREATE OR REPLACE TEMP TABLE lv_trial_counts AS SELECT session, count(*) AS n FROM labvanced_trials GROUP BY session',
  );
}
