import type { MyDataHelpsCallback } from '../../src/generated/mydatahelps-callback.js';
import { setOwn } from '../../src/http/parse-limits.js';

// The documented field names (plus the unconfirmed survey ones), in their canonical spelling.
const KNOWN = [
  'EventType',
  'ParticipantIdentifier',
  'ParticipantID',
  'ProjectID',
  'PatientIdentifier',
  'PatientID',
  'ScheduleID',
  'ScheduleName',
  'SurveyResultID',
  'SurveyID',
  'SurveyName',
  'SurveyDisplayName',
  'SurveyVersion',
  'TaskID',
];
const BY_LOWER = new Map(KNOWN.map((k) => [k.toLowerCase(), k]));

/**
 * Renames known keys to their canonical PascalCase spelling whatever casing they came in; unknown
 * keys (and a second spelling of a key already seen) are kept as received.
 */
export function canonicalKeys(body: Record<string, unknown>): MyDataHelpsCallback {
  const out: MyDataHelpsCallback = {};
  for (const [key, value] of Object.entries(body)) {
    const name = BY_LOWER.get(key.toLowerCase()) ?? key;
    // why: `in` and plain assignment see Object.prototype: `"__proto__"` was taken as already present
    // and its assignment replaced the prototype, so the field vanished from the data.
    setOwn(out, Object.hasOwn(out, name) ? key : name, value);
  }
  return out;
}
