import { rows, str } from '../../src/study/facts-sql.js';
import type { StudyFactsContext } from '../../src/study/study-part.js';

/** One Prolific submission, from `prolific_submissions`. */
export interface SubmissionFact {
  submission: string;
  participant: string | null;
  status: string | null;
  statusAt: string | null;
  history: string | null;
  studyId: string | null;
}

/** The event type `study approve` records its approvals with. */
export const APPROVED_TYPE = 'studyhook.submission.approved';

/** The study's submissions, and those `study approve` already approved (its events in the archive). */
export async function readSubmissions({ archive, conn, has }: StudyFactsContext): Promise<{
  submissions: SubmissionFact[];
  approved: Set<string>;
}> {
  const approved = new Set<string>();
  if (!has) return { submissions: [], approved };
  const submissions = (await rows(conn, 'SELECT * FROM prolific_submissions')).map((r) => ({
    submission: String(r['submission_id']),
    participant: str(r['participant']),
    status: str(r['status']),
    statusAt: str(r['status_at']),
    history: str(r['status_history']),
    studyId: str(r['study_id']),
  }));
  for (const r of await rows(
    conn,
    `SELECT DISTINCT subject FROM ${archive.events('prolific', { data: 'JSON' }, { types: [APPROVED_TYPE] })} WHERE subject IS NOT NULL`,
  ))
    approved.add(String(r['subject']));
  return { submissions, approved };
}
