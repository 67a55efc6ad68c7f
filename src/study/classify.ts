import type { StudyDef } from './study-config.js';
import type { CountFact, SessionFact, StudyFacts, SubmissionFact } from './study-facts.js';

/** What a participant's state across platforms amounts to (docs/studies.md, "Classifications"). */
export type Classification =
  'complete' | 'incomplete' | 'no data' | 'data without submission' | 'returned/timed out';
export const CLASSIFICATIONS: readonly Classification[] = [
  'complete',
  'incomplete',
  'no data',
  'data without submission',
  'returned/timed out',
];

/** Prolific statuses after which no data is expected. */
const NO_DATA_EXPECTED = new Set(['RETURNED', 'TIMED-OUT', 'SCREENED OUT']);

/** One participant across the study's platforms. */
export interface ParticipantRow {
  /** The linking value (e.g. the Prolific id); for data that names no participant, `(labvanced session 102)`. */
  participant: string;
  classification: Classification;
  /** What keeps the participant from `complete`, one item each (empty when complete). */
  missing: string[];
  /** What the participant has, in words (the approval plan's "why"). */
  has: string[];
  prolific?: {
    submission: string;
    status: string | null;
    statusAt: string | null;
    submissions: number;
    approvedByStudyhook: boolean;
  };
  labvanced?: {
    sessions: number;
    session: string | null;
    status: string | null;
    trials: number;
    files: number;
    error: string | null;
  };
  mydatahelps?: { surveys: number };
  actigraph?: { uploads: number; completed: number; status: string | null };
}

interface Person {
  submissions: SubmissionFact[];
  sessions: SessionFact[];
  surveys?: CountFact;
  uploads?: CountFact;
}

const list = (nums: readonly number[], more: number): string =>
  `${nums.join(', ')}${more > nums.length ? ` and ${more - nums.length} more` : ''}`;

/** What one session lacks against the study's expectations (empty: it counts as complete). */
export function sessionProblems(s: SessionFact, expect: StudyDef['expect']['labvanced']): string[] {
  const out: string[] = [];
  if (s.status === 'failed')
    out.push(`Labvanced session ${s.session} failed${s.error ? `: ${s.error}` : ''}`);
  else if (s.status !== 'finished')
    out.push(`Labvanced session ${s.session} not finished (${s.status ?? 'only trials seen'})`);
  const { trials, files } = expect;
  if (typeof trials === 'number' && s.trials < trials) {
    const gaps = s.tasks
      .filter((t) => t.gaps.length > 0)
      .map(
        (t) =>
          `task ${t.taskName ?? t.taskId ?? t.recTaskId} missing trial ${list(t.gaps, t.gapCount)}`,
      );
    out.push(`trials ${s.trials} of ${trials}${gaps.length ? ` (${gaps.join('; ')})` : ''}`);
  } else if (trials !== undefined && typeof trials === 'object') {
    for (const [task, want] of Object.entries(trials)) {
      const t = s.tasks.find((x) => x.taskName === task || x.taskId === task);
      const n = t?.trials ?? 0;
      if (n < want)
        out.push(
          `task ${task}: ${n} of ${want} trials${t && t.gaps.length ? `, missing trial ${list(t.gaps, t.gapCount)}` : ''}`,
        );
    }
  }
  if (files !== undefined && s.files < files) out.push(`files ${s.files} of ${files}`);
  return out;
}

function labvancedPart(
  p: Person,
  expect: StudyDef['expect']['labvanced'],
): { missing: string[]; has: string[]; row: NonNullable<ParticipantRow['labvanced']> } {
  const judged = p.sessions.map((s) => ({ s, problems: sessionProblems(s, expect) }));
  const ok = judged.filter((j) => j.problems.length === 0);
  // why: the session shown is the one that counts (complete, else the one closest to it, else the latest).
  const best = [...judged].sort(
    (a, b) =>
      a.problems.length - b.problems.length ||
      b.s.trials - a.s.trials ||
      b.s.session.localeCompare(a.s.session, undefined, { numeric: true }),
  )[0];
  const missing: string[] = [];
  if (p.sessions.length === 0) missing.push('no Labvanced session');
  else if (ok.length < expect.sessions) {
    const firstBad = judged.find((j) => j.problems.length > 0);
    if (firstBad && best && best.problems.length > 0) missing.push(...best.problems);
    if (expect.sessions > 1)
      missing.push(`complete Labvanced sessions ${ok.length} of ${expect.sessions}`);
  }
  const has = ok.map(
    (j) =>
      `Labvanced session ${j.s.session} finished with ${j.s.trials} trials, ${j.s.files} file(s)`,
  );
  const s = best?.s;
  return {
    missing,
    has,
    row: {
      sessions: p.sessions.length,
      session: s?.session ?? null,
      status: s?.status ?? null,
      trials: s?.trials ?? 0,
      files: s?.files ?? 0,
      error: s?.error ?? null,
    },
  };
}

const latest = (subs: readonly SubmissionFact[]): SubmissionFact | undefined =>
  [...subs].sort((a, b) => (b.statusAt ?? '').localeCompare(a.statusAt ?? ''))[0];

/** Classifies every participant the study's archive names, sorted by participant. */
export function classifyParticipants(study: StudyDef, facts: StudyFacts): ParticipantRow[] {
  const people = new Map<string, Person>();
  const person = (key: string): Person => {
    let p = people.get(key);
    if (!p) people.set(key, (p = { submissions: [], sessions: [] }));
    return p;
  };
  for (const s of facts.submissions)
    person(s.participant ?? `(prolific submission ${s.submission})`).submissions.push(s);
  for (const s of facts.sessions)
    person(s.participant ?? `(labvanced session ${s.session})`).sessions.push(s);
  for (const c of facts.surveys)
    person(c.participant ?? '(mydatahelps survey without participant)').surveys = c;
  for (const c of facts.uploads)
    person(c.participant ?? '(actigraph upload without subject)').uploads = c;
  const uses = (platform: string) => Object.hasOwn(study.namespaces, platform);
  const out: ParticipantRow[] = [];
  for (const [participant, p] of people) {
    const missing: string[] = [];
    const has: string[] = [];
    const row: Omit<ParticipantRow, 'classification'> = { participant, missing, has };
    const sub = latest(p.submissions);
    if (uses('prolific') && sub)
      row.prolific = {
        submission: sub.submission,
        status: sub.status,
        statusAt: sub.statusAt,
        submissions: p.submissions.length,
        approvedByStudyhook: facts.approved.has(sub.submission),
      };
    if (uses('labvanced')) {
      const lv = labvancedPart(p, study.expect.labvanced);
      missing.push(...lv.missing);
      has.push(...lv.has);
      row.labvanced = lv.row;
    }
    if (uses('mydatahelps')) {
      const n = p.surveys?.count ?? 0;
      row.mydatahelps = { surveys: n };
      if (n < study.expect.mydatahelps.surveys)
        missing.push(`MyDataHelps surveys ${n} of ${study.expect.mydatahelps.surveys}`);
      else if (n > 0) has.push(`${n} MyDataHelps survey(s)`);
    }
    if (uses('actigraph')) {
      const u = p.uploads;
      row.actigraph = {
        uploads: u?.count ?? 0,
        completed: u?.done ?? 0,
        status: u?.status ?? null,
      };
      if ((u?.done ?? 0) < study.expect.actigraph.uploads)
        missing.push(
          `ActiGraph completed uploads ${u?.done ?? 0} of ${study.expect.actigraph.uploads}${u?.status === 'error' ? ' (last upload failed)' : ''}`,
        );
      else if (u) has.push(`${u.done} completed ActiGraph upload(s)`);
    }
    const hasData =
      p.sessions.length > 0 || (p.surveys?.count ?? 0) > 0 || (p.uploads?.count ?? 0) > 0;
    const classification: Classification =
      sub && sub.status !== null && NO_DATA_EXPECTED.has(sub.status)
        ? 'returned/timed out'
        : !hasData
          ? 'no data'
          : uses('prolific') && !sub
            ? 'data without submission'
            : missing.length > 0
              ? 'incomplete'
              : 'complete';
    out.push({ ...row, classification });
  }
  return out.sort((a, b) => a.participant.localeCompare(b.participant));
}
