/** A problem the user can fix (unknown study, no archive, a Prolific API that failed): one line on stderr, exit 1. */
export class StudyError extends Error {
  override name = 'StudyError';
}
