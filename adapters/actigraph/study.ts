import { countFacts, type CountFact } from '../../src/study/facts-sql.js';
import { actigraphStudySchema, type ActiGraphStudy } from '../../src/generated/actigraph-study.js';
import { defineStudyPart } from '../../src/study/study-part.js';

declare module '../../src/study/types.js' {
  interface StudyFacts {
    /** Uploads per subject. */
    uploads: CountFact[];
  }
  interface ParticipantRow {
    actigraph?: { uploads: number; completed: number; status: string | null };
  }
  interface StudyExpectations {
    actigraph: { uploads: number };
  }
}

/** ActiGraph in a study: uploads per subject, completed ones against `expect.actigraph.uploads`. */
export const actigraphStudy = defineStudyPart<CountFact, ActiGraphStudy>({
  order: 4,
  schema: actigraphStudySchema,
  participant: { defaults: ['subjectId'], allowed: (f) => f === 'subjectId', say: 'subjectId' },
  expect: (given) => ({ uploads: given?.uploads ?? 1 }),
  tables: ['actigraph_uploads'],
  facts: async ({ conn, has }) => ({
    uploads: !has
      ? []
      : await countFacts(
          conn,
          `SELECT subject_id AS participant, count(*) AS n, count(*) FILTER (WHERE status = 'completed') AS done,
    max(status_at) AS last, arg_max(status, status_at) AS status FROM actigraph_uploads GROUP BY 1 ORDER BY 1`,
        ),
  }),
  units: (facts) =>
    facts.uploads.map((c) => [c.participant ?? '(actigraph upload without subject)', c]),
  judge(units, { study }) {
    const u = units.at(-1);
    const done = u?.done ?? 0;
    const want = study.expect.actigraph.uploads;
    return {
      row: { uploads: u?.count ?? 0, completed: done, status: u?.status ?? null },
      data: (u?.count ?? 0) > 0,
      ...(done < want
        ? {
            missing: [
              `ActiGraph completed uploads ${done} of ${want}${u?.status === 'error' ? ' (last upload failed)' : ''}`,
            ],
          }
        : u && { has: [`${u.done} completed ActiGraph upload(s)`] }),
    };
  },
  unitStatuses: (facts) => facts.uploads.map((u) => u.status),
  columns: [
    ['actigraph_uploads', (p) => p.actigraph?.uploads],
    ['actigraph_completed', (p) => p.actigraph?.completed],
    ['actigraph_status', (p) => p.actigraph?.status],
  ],
  text: (r) => `actigraph ${r.actigraph?.completed}/${r.actigraph?.uploads} uploads`,
  page: {
    color: '#137a2e',
    other: (p) =>
      p.actigraph
        ? `${p.actigraph.completed}/${p.actigraph.uploads} ActiGraph upload(s)`
        : undefined,
  },
});
