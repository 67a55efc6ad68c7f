import type { MyDataHelpsCallback } from '../../src/generated/mydatahelps-callback.js';

// The documented field names (plus the unconfirmed survey ones), in their canonical spelling.
const KNOWN = ['EventType', 'ParticipantIdentifier', 'ParticipantID', 'ProjectID', 'PatientIdentifier', 'PatientID',
  'ScheduleID', 'ScheduleName', 'SurveyResultID', 'SurveyID', 'SurveyName', 'SurveyDisplayName', 'SurveyVersion', 'TaskID'];
const BY_LOWER = new Map(KNOWN.map((k) => [k.toLowerCase(), k]));

/**
 * Renames known keys to their canonical PascalCase spelling whatever casing they came in; unknown
 * keys (and a second spelling of a key already seen) are kept as received.
 */
export function canonicalKeys(body: Record<string, unknown>): MyDataHelpsCallback {
  const out: MyDataHelpsCallback = {};
  for (const [key, value] of Object.entries(body)) {
    const name = BY_LOWER.get(key.toLowerCase()) ?? key;
    if (name in out) out[key] = value;
    else out[name] = value;
  }
  return out;
}
