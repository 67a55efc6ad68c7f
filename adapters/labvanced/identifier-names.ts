import { lit } from '../../src/export/sql.js';

// Spelled without case or separators: PROLIFIC_PID, prolificId, participant_id, Subject-Code, workerId…
const IDENTIFIER_NAMES =
  /^(prolific(pid|id|participantid)?|pid|participant(id|code)|subj(ect)?(id|code)|(mturk)?workerid|sonaid|userid)$/;

/**
 * True for a recorded field (a meta field, a trial variable) whose name says it holds a participant
 * identifier, e.g. the URL's `PROLIFIC_PID` a study records. why: its value is that identifier
 * whatever the platforms know of it, so under --pseudonymize the whole value becomes its pseudonym
 * (the same as in the table the identifier comes from, so they still join).
 */
export function namesIdentifier(path: readonly string[]): boolean {
  const last = path[path.length - 1] ?? '';
  return IDENTIFIER_NAMES.test(last.toLowerCase().replace(/[^a-z0-9]/g, ''));
}

/** A JSON member `"name":value` whose value is a string or a number: the name (quoted) is group 1, the value group 2. */
const MEMBER = String.raw`("(?:[^"\\]|\\.)*")\s*:\s*("(?:[^"\\]|\\.)*"|-?[0-9][0-9.eE+-]*)`;

const member = (m: string, group: 1 | 2) => `regexp_extract(${m}, ${lit(MEMBER)}, ${group})`;
/** A member's value as text: a string's own text, a number's digits (text that only looks like JSON: as written). */
const valueText = (m: string) =>
  `CASE WHEN json_valid(${member(m, 2)}) THEN json_extract_string(${member(m, 2)}, '$') ELSE trim(${member(m, 2)}, '"') END`;

/**
 * `named_ids(text)` in SQL: JSON text with the value of every member named as an identifier (the
 * rule of {@link namesIdentifier}), at any depth, replaced by its pseudonym; needs `pseudo()`.
 * why: a column keeps an object nested deeper than one level (or one that is not an object in
 * every row) as JSON text, so its members get no column the name rule could see: the player sends
 * the study's subject variables, URL parameters such as PROLIFIC_PID among them, as
 * `var_data.subjectData.data`. The value's pseudonym is the one its own column would get (a
 * string's text, a number's digits), so it joins the platform's table. Other JSON (arrays,
 * objects, booleans) under such a name stays, and so do the name and the spacing before the
 * value. why no JSON parse of the name: text that only looks like JSON (a free-text answer) must
 * not fail the export.
 */
export const NAMED_IDS_MACRO = `CREATE OR REPLACE MACRO named_ids(x) AS CASE WHEN x IS NULL THEN NULL ELSE list_reduce(list_prepend(CAST(x AS VARCHAR), list_filter(regexp_extract_all(CAST(x AS VARCHAR), ${lit(MEMBER)}, 0), m -> regexp_matches(regexp_replace(lower(${member('m', 1)}), '[^a-z0-9]', '', 'g'), ${lit(IDENTIFIER_NAMES.source)}))), (acc, m) -> replace(acc, m, left(m, length(m) - length(${member('m', 2)})) || '"' || pseudo(${valueText('m')}) || '"')) END`;
