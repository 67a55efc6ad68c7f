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
