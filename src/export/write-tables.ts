import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { codebookJson, codebookMarkdown, type CodebookHeader } from './codebook.js';
import { ident, lit } from './sql.js';
import type { BuiltTable } from './types.js';
import { runWithinMemory } from './within-memory.js';

const CSV = "FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', ESCAPE '\"', NEW_LINE '\\n'";

/**
 * Rows per Parquet row group for a table of `columns` columns: DuckDB's default (122,880) up to 30
 * columns, fewer for wider tables, in steps of 2,048 (its vector size).
 * why: the writer holds a whole row group per thread in memory; at the default, a table of 100
 * trial variables ran out of the export's memory limit.
 * why from the column count alone: the same rows must always give the same file.
 */
function rowGroupRows(columns: number): number {
  const rows = Math.floor((122880 * 30) / Math.max(1, columns) / 2048) * 2048;
  return Math.min(122880, Math.max(2048, rows));
}

// why zstd at level 1, not DuckDB's default level: on the trials' columns (short ids, small numbers)
// the higher level spent more time and made the file no smaller.
const options = (format: 'csv' | 'parquet', t: BuiltTable): string =>
  format === 'csv'
    ? CSV
    : `FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL 1, ROW_GROUP_SIZE ${rowGroupRows(t.columns.length)}`;

/**
 * Writes each table to `<out>/<table>.<format>` plus codebook.md and codebook.json. Every file is
 * written under a `.part` name first, and all are renamed once all are complete. why together: an
 * export stopped midway (Ctrl-C, a full disk) left some tables of the new export beside the rest
 * of the previous one, a mix no codebook describes; now it leaves the previous files as they were.
 */
export async function writeTables(
  conn: DuckDBConnection,
  out: string,
  header: CodebookHeader,
  tables: readonly BuiltTable[],
  step?: (label: string) => void,
): Promise<string[]> {
  await mkdir(out, { recursive: true });
  const names: string[] = [];
  const partOf = (name: string) => join(out, `${name}.part`);
  const stage = async (name: string, write: (part: string) => Promise<void>) => {
    names.push(name);
    // why removed first: a .part left behind (or planted) as a symlink would be written through,
    // to a file outside --out; writeFile's 'wx' then refuses anything that appears meanwhile.
    await rm(partOf(name), { force: true });
    await write(partOf(name));
  };
  try {
    for (const t of tables) {
      step?.(`writing ${t.name} (${t.rows} rows)`);
      await stage(`${t.name}.${header.format}`, (part) =>
        runWithinMemory(
          conn,
          `COPY ${ident(t.name)} TO ${lit(part)} (${options(header.format, t)})`,
        ),
      );
    }
    await stage('codebook.md', (part) =>
      writeFile(part, codebookMarkdown(header, tables), { flag: 'wx' }),
    );
    await stage('codebook.json', (part) =>
      writeFile(part, codebookJson(header, tables), { flag: 'wx' }),
    );
  } catch (err) {
    await Promise.all(names.map((name) => rm(partOf(name), { force: true })));
    throw err;
  }
  for (const name of names) await rename(partOf(name), join(out, name));
  return names;
}
