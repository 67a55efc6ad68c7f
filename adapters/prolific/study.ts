import { prolificStudySchema, type ProlificStudy } from '../../src/generated/prolific-study.js';
import { defineStudyPart } from '../../src/study/study-part.js';
import { approvable } from './approval-plan.js';
import { approveAction } from './study-approve.js';
import { readSubmissions, type SubmissionFact } from './study-facts.js';

/** A participant's entry under `prolific`: their latest submission. */
export interface ProlificRow {
  submission: string;
  status: string | null;
  statusAt: string | null;
  submissions: number;
  approvedByStudyhook: boolean;
  /** When `study approve` recorded its approval (only when it did). */
  approvedAt?: string | null;
}

declare module '../../src/study/types.js' {
  interface StudyFacts {
    submissions: SubmissionFact[];
    /** Submissions already approved by `study approve` (`studyhook.submission.approved` in the archive). */
    approved: Map<string, string | null>;
  }
  interface ParticipantRow {
    prolific?: ProlificRow;
  }
  interface StudySummary {
    /** Submissions `study approve` would approve now (AWAITING REVIEW and complete, not yet approved by it). */
    approvable: number;
  }
}

/** Prolific statuses after which no data is expected. */
const NO_DATA_EXPECTED = new Set(['RETURNED', 'TIMED-OUT', 'SCREENED OUT']);

const latest = (subs: readonly SubmissionFact[]): SubmissionFact | undefined =>
  [...subs].sort((a, b) => (b.statusAt ?? '').localeCompare(a.statusAt ?? ''))[0];

/**
 * Prolific in a study: the recruitment platform. A participant's latest submission says whether
 * they are recruited (data without one: `data without submission`) or left (`returned/timed out`).
 */
export const prolificStudy = defineStudyPart<SubmissionFact, ProlificStudy>({
  order: 1,
  schema: prolificStudySchema,
  participant: {
    defaults: ['participant_id'],
    allowed: (f) => f === 'participant_id',
    say: 'participant_id',
  },
  tables: ['prolific_submissions'],
  facts: readSubmissions,
  units: (facts) =>
    facts.submissions.map((s) => [s.participant ?? `(prolific submission ${s.submission})`, s]),
  judge(units, { facts }) {
    const sub = latest(units);
    if (!sub) return { recruited: false };
    return {
      recruited: true,
      left: sub.status !== null && NO_DATA_EXPECTED.has(sub.status),
      row: {
        submission: sub.submission,
        status: sub.status,
        statusAt: sub.statusAt,
        submissions: units.length,
        approvedByStudyhook: facts.approved.has(sub.submission),
        ...(facts.approved.has(sub.submission) && {
          approvedAt: facts.approved.get(sub.submission) ?? null,
        }),
      } satisfies ProlificRow,
    };
  },
  unitStatuses: (facts) => facts.submissions.map((s) => s.status),
  summary: (participants) => ({ approvable: participants.filter(approvable).length }),
  statusLines: (s) => [
    [
      'to approve',
      `${s.approvable.toLocaleString('en-US')} submission(s) AWAITING REVIEW and complete${s.approvable ? ` (studyhook study approve ${s.study} shows the plan)` : ''}`,
    ],
  ],
  columns: [
    ['prolific_submission', (p) => p.prolific?.submission],
    ['prolific_status', (p) => p.prolific?.status],
    ['prolific_status_at', (p) => p.prolific?.statusAt],
  ],
  text: (r) => `prolific ${r.prolific?.status ?? '-'}`,
  page: {
    color: '#2456b3',
    // why: the submissions' statuses are where the funnel ends.
    funnel: ({ summary }) => ({
      outcomes: Object.entries(summary.statuses['prolific'] ?? {})
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => [`Prolific ${k}`, v] as const),
    }),
    column: { header: 'Prolific', cell: (p) => p.prolific?.status ?? '' },
    cards: (s) => [[s.approvable, 'to approve']],
  },
  actions: [approveAction],
});
