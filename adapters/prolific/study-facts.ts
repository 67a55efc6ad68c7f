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

/** The study's submissions, and those `study approve` already approved (its events in the archive), with when it recorded each. */
export async function readSubmissions({ archive, conn, has }: StudyFactsContext): Promise<{
  submissions: SubmissionFact[];
  approved: Map<string, string | null>;
}> {
  const approved = new Map<string, string | null>();
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
    `SELECT subject, max(time) AS at FROM ${archive.events('prolific', { data: 'JSON' }, { types: [APPROVED_TYPE] })} WHERE subject IS NOT NULL GROUP BY subject`,
  ))
    approved.set(String(r['subject']), str(r['at']));
  return { submissions, approved };
}
