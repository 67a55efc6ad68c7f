import type { DuckDBConnection } from '@duckdb/node-api';

export type Row = Record<string, unknown>;

/** The rows of a query as plain objects. */
export async function rows(conn: DuckDBConnection, sql: string): Promise<Row[]> {
  return (await conn.runAndReadAll(sql)).getRowObjectsJS() as Row[];
}
export const str = (v: unknown): string | null =>
  v === null || v === undefined ? null : String(v);
export const num = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

/** Per participant of a platform counted by items (MyDataHelps surveys, ActiGraph uploads). */
export interface CountFact {
  participant: string | null;
  count: number;
  done: number;
  last: string | null;
  status: string | null;
}

/** Count facts from a query with the columns participant, n, done, last, status. */
export async function countFacts(conn: DuckDBConnection, sql: string): Promise<CountFact[]> {
  return (await rows(conn, sql)).map((r) => ({
    participant: str(r['participant']),
    count: num(r['n']),
    done: num(r['done']),
    last: str(r['last']),
    status: str(r['status']),
  }));
}
