import type { ParticipantPart } from '../../src/study/study-part.js';
import type { SessionFact } from './study-facts.js';

/** What a Labvanced participant must have sent (`studies.<s>.expect.labvanced`, defaults filled in). */
export interface LabvancedExpect {
  sessions: number;
  trials?: number | Record<string, number>;
  files?: number;
}

/** A participant's entry under `labvanced` in the study's rows: the session that counts. */
export interface LabvancedRow {
  sessions: number;
  session: string | null;
  status: string | null;
  trials: number;
  files: number;
  error: string | null;
}

const list = (nums: readonly number[], more: number): string =>
  `${nums.join(', ')}${more > nums.length ? ` and ${more - nums.length} more` : ''}`;

/** What one session lacks against the study's expectations (empty: it counts as complete). */
export function sessionProblems(s: SessionFact, expect: LabvancedExpect): string[] {
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

/** A participant's sessions judged: the one that counts, what is missing, what they have. */
export function judgeSessions(
  sessions: readonly SessionFact[],
  expect: LabvancedExpect,
): ParticipantPart & { row: LabvancedRow } {
  const judged = sessions.map((s) => ({ s, problems: sessionProblems(s, expect) }));
  const ok = judged.filter((j) => j.problems.length === 0);
  // why: the session shown is the one that counts (complete, else the one closest to it, else the latest).
  const best = [...judged].sort(
    (a, b) =>
      a.problems.length - b.problems.length ||
      b.s.trials - a.s.trials ||
      b.s.session.localeCompare(a.s.session, undefined, { numeric: true }),
  )[0];
  const missing: string[] = [];
  if (sessions.length === 0) missing.push('no Labvanced session');
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
    data: sessions.length > 0,
    row: {
      sessions: sessions.length,
      session: s?.session ?? null,
      status: s?.status ?? null,
      trials: s?.trials ?? 0,
      files: s?.files ?? 0,
      error: s?.error ?? null,
    },
  };
}
