import type pg from 'pg';
import type { StudyhookEvent } from '../../event/build-event.js';
import type { Batcher } from '../create-batcher.js';
import { defineSink } from '../types.js';

interface Options {
  connectionString?: string;
  host?: string;
  port?: number;
  user?: string;
  password?: string;
  database?: string;
  ssl?: boolean;
  table: string;
  schema?: string;
  poolSize: number;
  batchSize: number;
  batchWaitMs: number;
}

/** The table's columns, in the order of each row's parameters (the bench's skeleton inserts the same). */
export const COLUMNS = [
  'id',
  'type',
  'platform',
  'namespace',
  'study',
  'participant',
  'session',
  'subject',
  'time',
  'received_at',
  'event',
];

function row(e: StudyhookEvent): unknown[] {
  return [
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
  ];
}

/**
 * A multi-row INSERT of `n` rows. why: unnamed (parsed per statement, a cost shared by its rows), so
 * that it works behind PgBouncer in transaction mode, where a named statement may meet another connection.
 */
export function insertOf(table: string, n: number): string {
  const k = COLUMNS.length;
  const values = Array.from(
    { length: n },
    (_, r) => `(${COLUMNS.map((_c, c) => `$${r * k + c + 1}`).join(', ')})`,
  );
  return `INSERT INTO ${table} (${COLUMNS.join(', ')}) VALUES ${values.join(', ')} ON CONFLICT (id) DO NOTHING`;
}

// why: a lost connection, a server shutting down or out of resources is no one row's fault; other
// server errors (a constraint, a bad value) may be, so the batch is then written row by row.
const CONNECTION_CLASSES = /^(08|53|57)/;

const IDENT = '^[A-Za-z_][A-Za-z0-9_]{0,62}$';

function quote(id: string): string {
  return `"${id}"`;
}

/**
 * Writes every event to one table: the whole event as JSONB plus indexed columns for the attributes
 * people query by. Idempotent on the event id, so a retried delivery never duplicates a row.
 * Concurrent deliveries share multi-row INSERTs; a delivery resolves when its statement has committed.
 */
export default defineSink<Options, { pool: pg.Pool; batcher: Batcher<unknown[]> }>({
  name: 'postgres',
  // why: a batch is made of the deliveries in flight: with poolSize statements running, up to
  // batchSize rows each, 256 lets the statements of a busy study carry tens of rows (bench/README.md).
  concurrency: 256,
  usesSecrets: false,
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      connectionString: {
        type: 'string',
        description: 'postgres://user:pass@host:5432/db (else host/user/...)',
      },
      host: { type: 'string' },
      port: { type: 'integer' },
      user: { type: 'string' },
      password: { type: 'string' },
      database: { type: 'string' },
      ssl: { type: 'boolean' },
      table: { type: 'string', pattern: IDENT, default: 'studyhook_events' },
      schema: { type: 'string', pattern: IDENT },
      poolSize: { type: 'integer', minimum: 1, default: 4 },
      batchSize: {
        type: 'integer',
        minimum: 1,
        maximum: 1000,
        default: 100,
        description: 'Most rows per INSERT.',
      },
      batchWaitMs: {
        type: 'integer',
        minimum: 0,
        maximum: 1000,
        default: 0,
        description:
          'How long a row may wait for others while a connection is free (0: those delivered in the same event-loop turn).',
      },
    },
  },
  async setup(o, ctx) {
    const { table: _t, schema: _s, poolSize, ssl, batchSize, batchWaitMs, ...conn } = o;
    // why: loaded only when a postgres sink is configured, so other processes do not carry the driver.
    const {
      default: { Pool, DatabaseError },
    } = await import('pg');
    const pool = new Pool({ ...conn, ...(ssl !== undefined && { ssl }), max: poolSize });
    pool.on('error', (err) => ctx.logger.warn({ err: err.message }, 'postgres pool error'));
    const table = o.schema ? `${quote(o.schema)}.${quote(o.table)}` : quote(o.table);
    const ix = (col: string) =>
      `CREATE INDEX IF NOT EXISTS ${quote(`${o.table}_${col}_idx`)} ON ${table} (${col})`;
    try {
      if (o.schema) await pool.query(`CREATE SCHEMA IF NOT EXISTS ${quote(o.schema)}`);
      await pool.query(`CREATE TABLE IF NOT EXISTS ${table} (id text PRIMARY KEY)`);
      // why: ADD COLUMN IF NOT EXISTS migrates a table made by an older version in place.
      await pool.query(`ALTER TABLE ${table}
        ADD COLUMN IF NOT EXISTS type text, ADD COLUMN IF NOT EXISTS platform text,
        ADD COLUMN IF NOT EXISTS namespace text, ADD COLUMN IF NOT EXISTS study text,
        ADD COLUMN IF NOT EXISTS participant text, ADD COLUMN IF NOT EXISTS session text,
        ADD COLUMN IF NOT EXISTS subject text, ADD COLUMN IF NOT EXISTS time timestamptz,
        ADD COLUMN IF NOT EXISTS received_at timestamptz DEFAULT now(), ADD COLUMN IF NOT EXISTS event jsonb`);
      for (const col of [
        'type',
        'platform',
        'namespace',
        'study',
        'participant',
        'session',
        'time',
      ])
        await pool.query(ix(col));
    } catch (err) {
      await pool.end();
      throw err;
    }
    const inserts = new Map<number, string>();
    const batcher = ctx.createBatcher<unknown[]>({
      maxSize: batchSize,
      maxWaitMs: batchWaitMs,
      concurrency: poolSize,
      oneByOne: (err) => err instanceof DatabaseError && !CONNECTION_CLASSES.test(err.code ?? ''),
      async write(rows) {
        let insert = inserts.get(rows.length);
        if (!insert) inserts.set(rows.length, (insert = insertOf(table, rows.length)));
        await pool.query(insert, rows.flat());
      },
    });
    return { pool, batcher };
  },
  async deliver(e, ctx) {
    await ctx.state.batcher.add(row(e));
  },
  async close(state) {
    await state?.batcher.close();
    await state?.pool.end();
  },
});
