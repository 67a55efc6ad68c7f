import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { codebookJson, codebookMarkdown, type CodebookHeader } from './codebook.js';
import { ident, lit } from './sql.js';
import type { BuiltTable } from './types.js';

const OPTIONS = {
  csv: "FORMAT csv, HEADER true, DELIMITER ',', QUOTE '\"', ESCAPE '\"', NEW_LINE '\\n'",
  // why: a fixed row-group size, so that the same rows always give the same file.
  parquet: 'FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 122880',
} as const;

/**
 * Writes each table to `<out>/<table>.<format>` plus codebook.md and codebook.json. Each file is
 * written under a `.part` name and renamed when complete, so a failed run leaves no half file.
 */
export async function writeTables(
  conn: DuckDBConnection,
  out: string,
  header: CodebookHeader,
  tables: readonly BuiltTable[],
  step?: (label: string) => void,
): Promise<string[]> {
  await mkdir(out, { recursive: true });
  const written: string[] = [];
  const finish = async (name: string, write: (part: string) => Promise<void>) => {
    const part = join(out, `${name}.part`);
    try {
      await write(part);
      await rename(part, join(out, name));
    } catch (err) {
      await rm(part, { force: true });
      throw err;
    }
    written.push(name);
  };
  for (const t of tables) {
    step?.(`writing ${t.name} (${t.rows} rows)`);
    await finish(`${t.name}.${header.format}`, (part) =>
      conn
        .run(`COPY ${ident(t.name)} TO ${lit(part)} (${OPTIONS[header.format]})`)
        .then(() => undefined),
    );
  }
  await finish('codebook.md', (part) => writeFile(part, codebookMarkdown(header, tables)));
  await finish('codebook.json', (part) => writeFile(part, codebookJson(header, tables)));
  return written;
}
