import assert from 'node:assert/strict';
import fc from 'fast-check';
import { classifyParticipants } from '../src/study/classify.js';
import { resolveStudies } from '../src/study/study-config.js';
import type { SessionFact } from '../adapters/labvanced/study-facts.js';
import type { SubmissionFact } from '../adapters/prolific/study-facts.js';
import type { StudyFacts } from '../src/study/types.js';

const study = resolveStudies(
  {
    s: {
      namespaces: { prolific: 'lab', labvanced: 'lv' },
      expect: { labvanced: { trials: 4, files: 1 } },
    },
  },
  [],
)['s']!;
const STATUSES = [
  'ACTIVE',
  'AWAITING REVIEW',
  'APPROVED',
  'RETURNED',
  'TIMED-OUT',
  'SCREENED OUT',
  'REJECTED',
];
const pid = fc.constantFrom('P1', 'P2', 'P3', 'P4', null);

const submission = fc
  .record({
    n: fc.nat(50),
    participant: pid,
    status: fc.constantFrom(...STATUSES),
    at: fc.integer({ min: 0, max: 1e6 }),
  })
  .map(({ n, participant, status, at }): SubmissionFact => ({
    submission: `S${n}`,
    participant,
    status,
    statusAt: new Date(at * 1000).toISOString(),
    history: status,
    studyId: null,
  }));
const session = fc
  .record({
    n: fc.nat(50),
    participant: pid,
    status: fc.constantFrom('assigned', 'started', 'finished', 'failed', null),
    trials: fc.nat(6),
    files: fc.nat(2),
  })
  .map(({ n, participant, status, trials, files }): SessionFact => ({
    session: String(100 + n),
    participant,
    status,
    trials,
    files,
    error: status === 'failed' ? 'boom' : null,
    assignedAt: null,
    startedAt: null,
    finishedAt: null,
    failedAt: null,
    tasks: [],
  }));

const facts = (submissions: SubmissionFact[], sessions: SessionFact[]): StudyFacts => ({
  submissions: [...new Map(submissions.map((s) => [s.submission, s])).values()],
  sessions: [...new Map(sessions.map((s) => [s.session, s])).values()],
  surveys: [],
  uploads: [],
  sensorlogger: {},
  approved: new Map(),
  events: {},
  lastEvent: {},
  badLines: [],
  badLineCount: 0,
  hourly: [],
});

describe('classifying participants (property)', () => {
  it('gives every participant exactly one classification that agrees with what is missing and with Prolific', () => {
    fc.assert(
      fc.property(
        fc.array(submission, { maxLength: 8 }),
        fc.array(session, { maxLength: 8 }),
        (subs, sess) => {
          const f = facts(subs, sess);
          const rows = classifyParticipants(study, f);
          const keys = new Set([
            ...f.submissions.map((s) => s.participant ?? `(prolific submission ${s.submission})`),
            ...f.sessions.map((s) => s.participant ?? `(labvanced session ${s.session})`),
          ]);
          assert.deepEqual(rows.map((r) => r.participant).sort(), [...keys].sort());
          for (const r of rows) {
            const mine = f.sessions.filter(
              (s) => (s.participant ?? `(labvanced session ${s.session})`) === r.participant,
            );
            const latest = f.submissions
              .filter(
                (s) => (s.participant ?? `(prolific submission ${s.submission})`) === r.participant,
              )
              .sort((a, b) => b.statusAt!.localeCompare(a.statusAt!))[0];
            const ok = mine.some((s) => s.status === 'finished' && s.trials >= 4 && s.files >= 1);
            if (latest && ['RETURNED', 'TIMED-OUT', 'SCREENED OUT'].includes(latest.status!))
              assert.equal(r.classification, 'returned/timed out');
            else if (mine.length === 0) assert.equal(r.classification, 'no data');
            else if (!latest) assert.equal(r.classification, 'data without submission');
            else assert.equal(r.classification, ok ? 'complete' : 'incomplete');
            assert.equal(
              r.missing.length === 0,
              ok,
              `${r.participant}: missing ${JSON.stringify(r.missing)}`,
            );
          }
        },
      ),
      { seed: 25, numRuns: 300 },
    );
  });
});
