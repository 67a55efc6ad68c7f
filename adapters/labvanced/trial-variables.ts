import { col } from '../../src/export/create-table.js';
import {
  jsonListExpr,
  jsonValues,
  structExpr,
  structType,
  wholeObjectColumn,
} from '../../src/export/json-columns.js';
import { PERSONAL_NAME } from '../../src/export/pseudonym.js';
import type { ColumnSpec } from '../../src/export/types.js';
import { structSafe, variableColumns, type KeyTable } from '../../src/export/variables.js';
import { TRIAL_FIELDS } from './export-fields.js';
import { namesIdentifier } from './identifier-names.js';

/** The column of every variable at once, when some have no column of their own. */
const ALL = 'variables';
/** The source's column holding each trial's variables as text, read in one lookup per trial (JSON mode). */
const VALUES = 'lv_values';

/** How the trials' variables are read, and the columns they give. */
export interface TrialVariables {
  /** The `data` STRUCT the reader types each trial with. */
  data: string;
  /**
   * JSON mode: `<expr> AS lv_values`, every column's value as text in one lookup per trial, over
   * the (sorted) trials; the columns read it as `t.lv_values`. Unset when the reader types them.
   */
  values?: string;
  columns: ColumnSpec[];
}

/**
 * The variable columns of the trials (`t` is the trial row): each kept variable in first-seen
 * order and, when some variables got no column (`rest`), every variable as one JSON text column.
 * With `ids` (under --pseudonymize: the SQL list of the session's identifiers, named as the rows
 * carry it when the variables are read as JSON, `sorted`, or typed, `joined`), a text variable's
 * identifiers are replaced by their pseudonyms.
 * why: typed STRUCT fields let the reader type values while it parses (fast); names DuckDB refuses
 * as fields (empty, or equal but for case) fall back to JSON Pointer lookups, and so does the
 * whole-object column (the reader gives an object either typed or as JSON, not both).
 */
export function trialVariables(
  keys: KeyTable,
  rest: readonly string[],
  fixed: readonly string[],
  wideIntegers = false,
  ids?: { sorted: string; joined: string },
): TrialVariables {
  const all = rest.length > 0;
  const vars = variableColumns(keys, all ? [...fixed, ALL] : fixed, wideIntegers);
  // why not when some have no column: then the column of every variable is all there is of them.
  if (vars.length === 0 && !all) return { data: `STRUCT(${TRIAL_FIELDS})`, columns: [] };
  const fast = !all && structSafe(keys);
  const json = 't.data.recData.data';
  const columns = vars.map((v, i) => {
    const expr = fast ? structExpr(json, v) : jsonListExpr(`t.${VALUES}`, i, v);
    return col(
      v.name,
      v.type,
      expr,
      `Trial variable ${v.path.join(' → ')} as recorded`,
      `data.recData.data${v.path.map((p) => `[${JSON.stringify(p)}]`).join('')}`,
      {
        personal: PERSONAL_NAME.test(v.name),
        // why: studies record the URL's PROLIFIC_PID or the subject code as a variable: one named so
        // is pseudonymised whole, another has the session's identifiers in it replaced, and so have
        // members named so inside it (JSON text). why only under --pseudonymize: a plain export's
        // codebook stays as it was.
        ...(ids !== undefined && namesIdentifier(v.path) && { identifier: true }),
        ...(ids !== undefined &&
          !namesIdentifier(v.path) &&
          (v.type === 'text' || v.type === 'json') && {
            mentions: true,
            pseudoExpr: `unids(named_ids(${expr}), ${fast ? ids.joined : ids.sorted})`,
          }),
      },
    );
  });
  if (all)
    columns.push(
      wholeObjectColumn(ALL, json, 'Every trial variable as recorded', 'data.recData.data', rest),
    );
  return {
    data: `STRUCT(${TRIAL_FIELDS}, recData STRUCT(data ${fast ? structType(keys, vars) : 'JSON'}))`,
    // why one list per trial: a JSON function holds a parse buffer per call site, so one lookup
    // per column held a buffer per column, and hundreds of columns ran out of the memory limit.
    ...(!fast && vars.length > 0 && { values: `${jsonValues(json, vars)} AS ${VALUES}` }),
    columns,
  };
}
