// The skeleton the postgres sink is measured against (bench/README.md, "Sinks"): the same rows in a
// table with the same columns and indexes, inserted the plain way a lab would write it by hand, 100
// rows per multi-row INSERT from one pool. Each delivery resolves when its INSERT has committed.
import pg from 'pg';
import { insertOf } from '../src/sinks/builtin/postgres.js';
import type { Sink } from '../src/sinks/types.js';

interface Pending {
  row: unknown[];
  resolve: () => void;
  reject: (err: unknown) => void;
}
interface State {
  pool: pg.Pool;
  table: string;
  buffer: Pending[];
  timer: NodeJS.Timeout | undefined;
}

const INDEXED = ['type', 'platform', 'namespace', 'study', 'participant', 'session', 'time'];

/** The postgres sink's table: the same columns and indexes (src/sinks/builtin/postgres.ts). */
export async function createTable(pool: pg.Pool, table: string): Promise<void> {
  await pool.query(`CREATE TABLE IF NOT EXISTS ${table} (id text PRIMARY KEY, type text, platform text, namespace text, study text,
    participant text, session text, subject text, time timestamptz, received_at timestamptz DEFAULT now(), event jsonb)`);
  for (const c of INDEXED)
    await pool.query(`CREATE INDEX IF NOT EXISTS ${table}_${c}_idx ON ${table} (${c})`);
}

/** The postgres sink's own multi-row INSERT, so that the skeleton writes exactly its statements. */
export const insertText = insertOf;

function flush(s: State): void {
  clearTimeout(s.timer);
  s.timer = undefined;
  const batch = s.buffer.splice(0, 100);
  if (batch.length === 0) return;
  s.pool
    .query(
      insertText(s.table, batch.length),
      batch.flatMap((b) => b.row),
    )
    .then(
      () => {
        for (const b of batch) b.resolve();
      },
      (err: unknown) => {
        for (const b of batch) b.reject(err);
      },
    );
}

const skeleton: Sink<{ url: string; table: string }, State> = {
  name: 'pg-skeleton',
  async setup(options) {
    const pool = new pg.Pool({ connectionString: options.url, max: 4 });
    await createTable(pool, options.table);
    return { pool, table: options.table, buffer: [], timer: undefined };
  },
  deliver(e, ctx) {
    const s = ctx.state;
    return new Promise<void>((resolve, reject) => {
      s.buffer.push({
        resolve,
        reject,
        row: [
          e.id,
          e.type,
          e.platform,
          e.namespace,
          e.studyid ?? null,
          e.participantid ?? null,
          e.sessionid ?? null,
          e.subject ?? null,
          e.time,
          e.receivedat,
          JSON.stringify(e),
        ],
      });
      if (s.buffer.length >= 100) flush(s);
      else s.timer ??= setTimeout(() => flush(s), 5);
    });
  },
  async close(s) {
    while (s.buffer.length > 0) flush(s);
    await s.pool.end();
  },
};
export default skeleton;
