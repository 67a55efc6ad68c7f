import { ident } from './sql.js';
import type { BuiltTable, ColumnSpec, TableContext } from './types.js';
import { runWithinMemory } from './within-memory.js';

/** What a builder declares: the table, its columns with their expressions, its source and its row order. */
export interface TableDef {
  description: string;
  columns: ColumnSpec[];
  /** `FROM ...` and any joins, `WHERE` or `QUALIFY`. */
  from: string;
  /** The rows' order; empty: any order (a table only other queries read). */
  orderBy: string;
  /**
   * A column whose equal values in neighbouring rows are copies of one event: all but the first are
   * deleted. why: cheaper than a hash partition over a large table; the order must put copies together.
   */
  dedupe?: string;
  /**
   * A view instead of a table, when its rows are known beforehand (`rows`): written straight from its
   * source in its order, never stored. why: storing a million wide rows cost more than reading,
   * sorting and writing them.
   */
  view?: { rows: number };
  /**
   * Under --pseudonymize, each identifier (key) met in a column's name, meaning or source is
   * replaced by its pseudonym (value), as {@link replaceIdentifiers} does. why: columns are named
   * after what participants' data names (a trial variable or an object's field named after the
   * subject code), and the names reach the file's header, the Parquet schema and the codebook.
   */
  namePseudonyms?: ReadonlyMap<string, string>;
}

/** The shortest identifier replaced in a name, as in text (`unids`): replacing every `12` would garble it. */
const MIN_ID = 4;
/**
 * The longest one looked for in a name. why: the work per name grows with the number of
 * identifier lengths, and a forged subject code can be of any length; real ones (a crowdsourcing
 * id, a UUID, a subject code) are shorter.
 */
const MAX_ID = 64;

const WORD = /[\p{L}\p{N}]/u;

/** Each map's identifier lengths, longest first. why kept: a map is shared by every name of a table. */
const lengthsOf = new WeakMap<ReadonlyMap<string, string>, number[]>();

/**
 * `text` with every identifier of `pseudonyms` in it replaced by its pseudonym: from left to right,
 * the longest identifier that starts at each place and is not part of a longer word (`k_ID`,
 * `resp.ID`, `ID_answer`). why not inside words: a test run's subject code `test` would have
 * renamed `pretest_score`. why substrings of the identifiers' lengths looked up, not every
 * identifier searched: a study has as many identifiers as participants, a name a few dozen
 * characters. why one pass: a pseudonym written is never searched again (its hex digits can spell
 * a short id).
 */
export function replaceIdentifiers(text: string, pseudonyms: ReadonlyMap<string, string>): string {
  let lengths = lengthsOf.get(pseudonyms);
  if (lengths === undefined) {
    const all = new Set<number>();
    for (const k of pseudonyms.keys())
      if (k.length >= MIN_ID && k.length <= MAX_ID) all.add(k.length);
    lengths = [...all].sort((a, b) => b - a);
    lengthsOf.set(pseudonyms, lengths);
  }
  if (lengths.length === 0) return text;
  // why per UTF-16 unit, as text[i]: half of a surrogate pair is no letter, so an emoji parts words.
  const word = Array.from({ length: text.length }, (_u, i) => WORD.test(text[i]!));
  let out = '';
  for (let i = 0; i < text.length;) {
    const n = word[i - 1]
      ? undefined
      : lengths.find(
          (len) =>
            i + len <= text.length && !word[i + len] && pseudonyms.has(text.slice(i, i + len)),
        );
    if (n === undefined) out += text[i++];
    else {
      out += pseudonyms.get(text.slice(i, i + n))!;
      i += n;
    }
  }
  return out;
}

/**
 * Creates the temporary table of the builder being built (`ctx.table`) in its final row order. Under --pseudonymize, identifier
 * columns go through `pseudo()` and personal free-text columns are left out; both are recorded.
 */
export async function createTable(ctx: TableContext, def: TableDef): Promise<BuiltTable> {
  const { name, platform } = ctx.table;
  const pseudonyms = ctx.pseudonymize ? def.namePseudonyms : undefined;
  const named = (c: ColumnSpec): ColumnSpec =>
    pseudonyms === undefined
      ? c
      : {
          ...c,
          name: replaceIdentifiers(c.name, pseudonyms),
          meaning: replaceIdentifiers(c.meaning, pseudonyms),
          source: replaceIdentifiers(c.source, pseudonyms),
        };
  const columns = def.columns.map(named);
  const kept = columns.filter((c) => !(ctx.pseudonymize && c.personal));
  const dropped = columns
    .filter((c) => ctx.pseudonymize && c.personal)
    .map(({ expr: _e, pseudoExpr: _p, ...doc }) => doc);
  const select = kept.map(
    (c) =>
      `${ctx.pseudonymize && (c.identifier || c.mentions) ? (c.pseudoExpr ?? `pseudo(${c.expr})`) : c.expr} AS ${ident(c.name)}`,
  );
  await runWithinMemory(
    ctx.conn,
    `CREATE OR REPLACE TEMP ${def.view ? 'VIEW' : 'TABLE'} ${ident(name)} AS SELECT ${select.join(', ')} ${def.from}${def.orderBy ? ` ORDER BY ${def.orderBy}` : ''}`,
  );
  if (def.dedupe) {
    const d = ident(def.dedupe);
    await ctx.conn.run(
      `DELETE FROM ${ident(name)} WHERE rowid IN (SELECT r FROM (SELECT rowid AS r, ${d} AS id, lag(${d}) OVER (ORDER BY rowid) AS prev FROM ${ident(name)}) WHERE prev = id)`,
    );
  }
  const rows =
    def.view?.rows ??
    Number(
      (await ctx.conn.runAndReadAll(`SELECT count(*) FROM ${ident(name)}`)).getRowsJS()[0]?.[0] ??
        0,
    );
  return {
    name,
    platform,
    description: def.description,
    columns: kept.map(({ expr: _e, pseudoExpr: _p, ...doc }) =>
      !ctx.pseudonymize
        ? doc
        : doc.identifier
          ? // why text: a pseudonym is, whatever the identifier was recorded as (a number, say).
            { ...doc, type: 'text' as const, pseudonymised: true }
          : doc.mentions
            ? { ...doc, identifiersReplaced: true }
            : doc,
    ),
    dropped,
    rows,
  };
}

/** A column spec in one line: name, type, expression, meaning, source. */
export function col(
  name: string,
  type: ColumnSpec['type'],
  expr: string,
  meaning: string,
  source: string,
  flags: { identifier?: boolean; personal?: boolean; mentions?: boolean; pseudoExpr?: string } = {},
): ColumnSpec {
  return { name, type, expr, meaning, source, ...flags };
}
