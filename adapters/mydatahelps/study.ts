import { countFacts, type CountFact } from '../../src/study/facts-sql.js';
import {
  mydatahelpsStudySchema,
  type MyDataHelpsStudy,
} from '../../src/generated/mydatahelps-study.js';
import { defineStudyPart } from '../../src/study/study-part.js';

declare module '../../src/study/types.js' {
  interface StudyFacts {
    /** Survey results per participant. */
    surveys: CountFact[];
  }
  interface ParticipantRow {
    mydatahelps?: { surveys: number };
  }
  interface StudyExpectations {
    mydatahelps: { surveys: number };
  }
}

/** The `mydatahelps_surveys` column of a linking field. */
const column = (f: string) => (f === 'ParticipantID' ? 'participant_id' : 'participant');

/** MyDataHelps in a study: survey results per participant, against `expect.mydatahelps.surveys`. */
export const mydatahelpsStudy = defineStudyPart<CountFact, MyDataHelpsStudy>({
  order: 3,
  schema: mydatahelpsStudySchema,
  participant: {
    defaults: ['ParticipantIdentifier'],
    allowed: (f) => f === 'ParticipantIdentifier' || f === 'ParticipantID',
    say: 'ParticipantIdentifier or ParticipantID',
  },
  expect: (given) => ({ surveys: given?.surveys ?? 1 }),
  tables: ['mydatahelps_surveys'],
  facts: async ({ conn, study, has }) => ({
    surveys: !has
      ? []
      : await countFacts(
          conn,
          `SELECT coalesce(${(study.participant['mydatahelps'] ?? ['ParticipantIdentifier']).map(column).join(', ')}) AS participant,
    count(*) AS n, count(*) AS done, max(received_at) AS last, NULL AS status FROM mydatahelps_surveys WHERE NOT test_mode GROUP BY 1 ORDER BY 1`,
        ),
  }),
  units: (facts) =>
    facts.surveys.map((c) => [c.participant ?? '(mydatahelps survey without participant)', c]),
  judge(units, { study }) {
    const n = units.at(-1)?.count ?? 0;
    const want = study.expect.mydatahelps.surveys;
    return {
      row: { surveys: n },
      data: n > 0,
      ...(n < want
        ? { missing: [`MyDataHelps surveys ${n} of ${want}`] }
        : n > 0 && { has: [`${n} MyDataHelps survey(s)`] }),
    };
  },
  statusCounts: (facts) =>
    facts.surveys.length > 0
      ? { submitted: facts.surveys.reduce((n, c) => n + c.count, 0) }
      : undefined,
  columns: [['mydatahelps_surveys', (p) => p.mydatahelps?.surveys]],
  text: (r) => `mydatahelps ${r.mydatahelps?.surveys} surveys`,
  page: {
    color: '#7b3fb3',
    other: (p) => (p.mydatahelps ? `${p.mydatahelps.surveys} survey(s)` : undefined),
  },
});
