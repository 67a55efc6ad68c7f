import { totalmem } from 'node:os';
import type { DuckDBConnection } from '@duckdb/node-api';

const OUT_OF_MEMORY = /Out of Memory Error/;
const UNITS: Record<string, number> = {
  B: 1,
  KiB: 1024,
  MiB: 1024 ** 2,
  GiB: 1024 ** 3,
  TiB: 1024 ** 4,
};

async function setting(conn: DuckDBConnection, name: string): Promise<string> {
  const rows = (await conn.runAndReadAll(`SELECT current_setting('${name}')`)).getRowsJS();
  return String(rows[0]?.[0]);
}

/** DuckDB's memory limit in bytes (it reports it as e.g. `381.4 MiB`). */
async function memoryLimit(conn: DuckDBConnection): Promise<number> {
  const m = /^([\d.]+)\s*(B|KiB|MiB|GiB|TiB)$/.exec(await setting(conn, 'memory_limit'));
  return m ? Number(m[1]) * UNITS[m[2]!]! : NaN;
}

/**
 * Runs `work` (statements that must be safe to run again: they create or replace what they write,
 * or only read). When the engine runs out of its memory limit, it runs it again on one thread, then
 * with the limit doubled each time, up to half the machine's memory; the settings are restored
 * afterwards.
 * why one thread first: every thread holds buffers of its own, and some shapes of data need more
 * per thread than the limit leaves (hundreds of trial variables: the scan types each of them in
 * every trial). why a larger limit after that: the engine works on 2,048 rows at a time, so trials
 * of hundreds of kilobytes each need more than the limit even on one thread; what they need grows
 * with the size of a trial, not with the number of trials.
 */
export async function withinMemory<T>(conn: DuckDBConnection, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (!OUT_OF_MEMORY.test(String(err))) throw err;
  }
  const threads = await setting(conn, 'threads');
  const limit = await memoryLimit(conn);
  const ceiling = totalmem() / 2;
  try {
    await conn.run('SET threads = 1');
    for (let bytes = limit; ; bytes *= 2) {
      if (bytes !== limit) await conn.run(`SET memory_limit = '${Math.floor(bytes)}B'`);
      try {
        return await work();
      } catch (err) {
        if (!OUT_OF_MEMORY.test(String(err)) || !(bytes * 2 <= ceiling)) throw err;
      }
    }
  } finally {
    await conn.run(`SET threads = ${Number(threads)}`);
    if (limit > 0) await conn.run(`SET memory_limit = '${Math.floor(limit)}B'`);
  }
}

/** {@link withinMemory} for one statement. */
export async function runWithinMemory(conn: DuckDBConnection, sql: string): Promise<void> {
  await withinMemory(conn, () => conn.run(sql));
}
