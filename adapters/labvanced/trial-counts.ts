import type { TableContext } from '../../src/export/types.js';
import { exists } from './export-events.js';

/**
 * `lv_trial_counts` (session → trials) from what the scan kept in `lv_scan`, and how many of those
 * trials may repeat an event id. why: with no copy, the trials need no table: their rows are known,
 * and they are written straight from the archive. The scan kept 64-bit hashes of the ids, so two
 * different ids can (rarely) look like a copy; then the trials take the stored path, which removes
 * copies by the ids themselves and counts again ({@link countTableTrials}).
 */
export async function countTrials(ctx: TableContext): Promise<{ rows: number; copies: number }> {
  // why: with no Labvanced file in the range the scan did not run.
  if (!(await exists(ctx, 'lv_scan'))) {
    await ctx.conn.run('CREATE OR REPLACE TEMP TABLE lv_trial_counts (session VARCHAR, n BIGINT)');
    return { rows: 0, copies: 0 };
  }
  await ctx.conn.run(
    `CREATE OR REPLACE TEMP TABLE lv_trial_counts AS SELECT session, CAST(sum(n) AS BIGINT) AS n FROM (
      SELECT unnest(map_keys(sessions)) AS session, unnest(map_values(sessions)) AS n FROM lv_scan WHERE tr
      UNION ALL SELECT NULL, nulls FROM lv_scan WHERE tr AND nulls > 0) GROUP BY session`,
  );
  const all = (
    await ctx.conn.runAndReadAll(
      'SELECT (SELECT sum(n) FROM lv_trial_counts) AS n, (SELECT count(DISTINCT h) FROM (SELECT unnest(ids) AS h FROM lv_scan WHERE tr)) AS ids',
    )
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
