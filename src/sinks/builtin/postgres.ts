import type pg from 'pg';
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
}

const IDENT = '^[A-Za-z_][A-Za-z0-9_]{0,62}$';

function quote(id: string): string {
  return `"${id}"`;
}

/**
 * Writes every event to one table: the whole event as JSONB plus indexed columns for the attributes
 * people query by. Idempotent on the event id, so a retried delivery never duplicates a row.
 */
export default defineSink<Options, { pool: pg.Pool; insert: string }>({
  name: 'postgres',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      connectionString: { type: 'string', description: 'postgres://user:pass@host:5432/db (else host/user/...)' },
      host: { type: 'string' },
      port: { type: 'integer' },
      user: { type: 'string' },
      password: { type: 'string' },
      database: { type: 'string' },
      ssl: { type: 'boolean' },
      table: { type: 'string', pattern: IDENT, default: 'studyhook_events' },
      schema: { type: 'string', pattern: IDENT },
      poolSize: { type: 'integer', minimum: 1, default: 4 },
    },
  },
  async setup(o, ctx) {
    const { table: _t, schema: _s, poolSize, ssl, ...conn } = o;
    // why: loaded only when a postgres sink is configured, so other processes do not carry the driver.
    const { default: { Pool } } = await import('pg');
    const pool = new Pool({ ...conn, ...(ssl !== undefined && { ssl }), max: poolSize });
    pool.on('error', (err) => ctx.logger.warn({ err: err.message }, 'postgres pool error'));
    const table = o.schema ? `${quote(o.schema)}.${quote(o.table)}` : quote(o.table);
    const ix = (col: string) => `CREATE INDEX IF NOT EXISTS ${quote(`${o.table}_${col}_idx`)} ON ${table} (${col})`;
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
      for (const col of ['type', 'platform', 'namespace', 'study', 'participant', 'session', 'time']) await pool.query(ix(col));
    } catch (err) {
      await pool.end();
      throw err;
    }
    const insert = `INSERT INTO ${table} (id, type, platform, namespace, study, participant, session, subject, time, received_at, event)
      VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) ON CONFLICT (id) DO NOTHING`;
    return { pool, insert };
  },
  async deliver(e, ctx) {
    await ctx.state.pool.query(ctx.state.insert, [
      e.id, e.type, e.platform, e.namespace, e.studyid ?? null, e.participantid ?? null, e.sessionid ?? null,
      e.subject ?? null, e.time, e.receivedat, JSON.stringify(e),
    ]);
  },
  async close(state) {
    await state?.pool.end();
  },
});
