import { col } from '../../src/export/create-table.js';
import {
  jsonListExpr,
  jsonValues,
  keyTableOf,
  wholeObjectColumn,
} from '../../src/export/json-columns.js';
import { idOrder } from '../../src/export/sql.js';
import { PERSONAL_NAME } from '../../src/export/pseudonym.js';
import type { ColumnSpec, TableContext } from '../../src/export/types.js';
import { fitColumns, MAX_VARIABLE_COLUMNS, variableColumns } from '../../src/export/variables.js';
import { namesIdentifier } from './identifier-names.js';

const PROMOTED = new Set(['crowdsourcingCode', 'crowdsourcinSubjId']);

/** A session object's columns, and the list of its values they read (SQL over the sessions `s`). */
export interface ObjectColumns {
  columns: ColumnSpec[];
  /** `<expr> AS <name>`: every column's value as text in one lookup per session (none when no column). */
  values?: string;
}

/**
 * `<field>.*` columns: the fields of the session's latest `var_data` / `survey_data` object, one
 * level flattened, at most {@link MAX_VARIABLE_COLUMNS} of them; past that, the whole object as
 * one more JSON column named `<field>`, so nothing is lost. why capped: the meta information comes
 * from the participant's browser; sessions with a field name each made one column per session, and
 * enough of them ran the export out of memory. why one lookup: each JSON call site held a parse
 * buffer of its own.
 */
export async function objectColumns(
  ctx: TableContext,
  field: 'var_data' | 'survey_data',
  taken: string[],
): Promise<ObjectColumns> {
  const r = await ctx.conn.runAndReadAll(
    `SELECT CAST(${field} AS VARCHAR) FROM s ORDER BY ${idOrder('session')}`,
  );
  const objects = r
    .getRowsJS()
    .map((row) => (typeof row[0] === 'string' ? (JSON.parse(row[0]) as unknown) : null));
  const keys = keyTableOf(objects);
  for (const k of PROMOTED) if (field === 'var_data') keys.delete(k);
  const { kept, rest } = fitColumns(keys, MAX_VARIABLE_COLUMNS);
  const vars = variableColumns(kept, taken, ctx.wideIntegers);
  const values = `lv_${field}_values`;
  const of =
    field === 'var_data'
      ? 'the meta information (`/addMetaInfo`, updated by `/finishExpSession`)'
      : 'the start-up survey (`/startFirstPlayerSession`)';
  const named = (path: readonly string[]) => ctx.pseudonymize && namesIdentifier(path);
  const columns = vars.map((v, i) => {
    const name = `${field}.${v.name}`;
    return col(
      name,
      v.type,
      jsonListExpr(`s.${values}`, i, v),
      `\`${v.path.join('.')}\` of ${of}`,
      `data.${field}.${v.path.join('.')}`,
      {
        personal: PERSONAL_NAME.test(name),
        // why: a meta field can hold the participant's id (`PROLIFIC_PID` from the URL): one named
        // so is pseudonymised whole, another has the session's identifiers in it replaced, and so
        // have members named so inside it (the subject variables, `subjectData.data`, are JSON
        // text). why only under --pseudonymize: a plain export's codebook stays as it was.
        ...(named(v.path) && { identifier: true }),
        ...(!named(v.path) &&
          (v.type === 'text' || v.type === 'json') && {
            mentions: true,
            pseudoExpr: `unids(named_ids(${jsonListExpr(`s.${values}`, i, v)}), s.lv_ids)`,
          }),
      },
    );
  });
  if (rest.length > 0)
    columns.push(wholeObjectColumn(field, `s.${field}`, `All of ${of}`, `data.${field}`, rest));
  return {
    columns,
    ...(vars.length > 0 && { values: `${jsonValues(field, vars)} AS ${values}` }),
  };
}
