import type { DuckDBConnection } from '@duckdb/node-api';

const OUT_OF_MEMORY = /Out of Memory Error/;

/**
 * Runs a statement that must be safe to run twice (it creates or replaces what it writes); when the
 * engine runs out of its memory limit, runs it again on one thread.
 * why: every thread holds buffers of its own, and some shapes of data need more per thread than the
 * limit leaves (a study with hundreds of trial variables: the scan types each of them in every
 * trial); one thread is slower but stays within the limit that keeps the export's memory bounded.
 */
export async function runWithinMemory(conn: DuckDBConnection, sql: string): Promise<void> {
  try {
    await conn.run(sql);
    return;
  } catch (err) {
    if (!OUT_OF_MEMORY.test(String(err))) throw err;
    const threads = Number(
      (await conn.runAndReadAll("SELECT current_setting('threads')")).getRowsJS()[0]?.[0],
    );
    if (!(threads > 1)) throw err;
    await conn.run('SET threads = 1');
    try {
      await conn.run(sql);
    } finally {
      await conn.run(`SET threads = ${threads}`);
    }
  }
}
