import { labvancedStudySchema, type LabvancedStudy } from '../../src/generated/labvanced-study.js';
import { defineStudyPart } from '../../src/study/study-part.js';
import { readSessions, type SessionFact } from './study-facts.js';
import { judgeSessions, type LabvancedExpect, type LabvancedRow } from './study-judge.js';

declare module '../../src/study/types.js' {
  interface StudyFacts {
    sessions: SessionFact[];
  }
  interface ParticipantRow {
    labvanced?: LabvancedRow;
  }
  interface StudyExpectations {
    labvanced: LabvancedExpect;
  }
}

/** Labvanced in a study: sessions, each judged against `expect.labvanced` (sessions, trials, files). */
export const labvancedStudy = defineStudyPart<SessionFact, LabvancedStudy>({
  order: 2,
  schema: labvancedStudySchema,
  participant: {
    defaults: ['subject_code', 'var_data.crowdsourcinSubjId'],
    allowed: (f) =>
      f === 'subject_code' || f === 'token' || /^(var_data|survey_data)\.[^.]+$/.test(f),
    say: 'subject_code, token, var_data.<name> or survey_data.<name>',
  },
  expect: (lv): LabvancedExpect => ({
    sessions: lv?.sessions ?? 1,
    ...(lv?.trials !== undefined && { trials: lv.trials }),
    ...(lv?.files !== undefined && { files: lv.files }),
  }),
  tables: ['labvanced_trials', 'labvanced_sessions'],
  facts: async ({ conn, study, has }) => ({
    sessions: has ? await readSessions(conn, study) : [],
  }),
  units: (facts) =>
    facts.sessions.map((s) => [s.participant ?? `(labvanced session ${s.session})`, s]),
  judge: (units, { study }) => judgeSessions(units, study.expect.labvanced),
  unitStatuses: (facts) => facts.sessions.map((s) => s.status),
  columns: [
    ['labvanced_sessions', (p) => p.labvanced?.sessions],
    ['labvanced_session', (p) => p.labvanced?.session],
    ['labvanced_status', (p) => p.labvanced?.status],
    ['labvanced_trials', (p) => p.labvanced?.trials],
    ['labvanced_files', (p) => p.labvanced?.files],
    ['labvanced_error', (p) => p.labvanced?.error],
  ],
  text: ({ labvanced: lv }) =>
    lv?.sessions
      ? `labvanced ${lv.session} ${lv.status ?? '-'} ${lv.trials} trials ${lv.files} files`
      : 'labvanced -',
  page: {
    color: '#e07b00',
    funnel: ({ facts: { sessions: lv } }) => ({
      steps: [
        ['Labvanced assigned', lv.length],
        [
          'Labvanced started',
          lv.filter((s) => s.startedAt || s.status === 'started' || s.status === 'finished').length,
        ],
        ['Labvanced finished', lv.filter((s) => s.status === 'finished').length],
        ['Labvanced failed', lv.filter((s) => s.status === 'failed').length],
      ],
    }),
    column: {
      header: 'Labvanced',
      cell: ({ labvanced: lv }) =>
        lv && lv.sessions
          ? `session ${lv.session} ${lv.status || ''}, ${lv.trials} trials, ${lv.files} file(s)`
          : '',
    },
  },
});
