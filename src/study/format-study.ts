import type { ParticipantRow } from './classify.js';
import type { StudySummary } from './read-study.js';

const n = (x: number) => x.toLocaleString('en-US');
const counts = (r: Record<string, number>) =>
  Object.entries(r)
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .map(([k, v]) => `${k} ${n(v)}`)
    .join(', ');

/** `study status` for a person: counts per platform and status, classifications, what to do next. */
export function statusText(s: StudySummary): string {
  const lines = [
    `study ${s.study} (${Object.entries(s.namespaces)
      .map(([p, ns]) => `${p}/${ns}`)
      .join(
        ', ',
      )})${s.implicit ? `: not in the config's studies, read as namespace '${s.study}' on each platform` : ''}`,
  ];
  const row = (label: string, text: string) => lines.push(`  ${label.padEnd(14)}${text}`);
  row(
    'events',
    Object.entries(s.events)
      .map(([p, v]) => `${p} ${n(v)} (last ${s.lastEvent[p] ?? 'never'})`)
      .join('; '),
  );
  for (const [platform, st] of Object.entries(s.statuses)) row(platform, counts(st));
  row(
    'participants',
    `${n(s.participants)}: ${Object.entries(s.classifications)
      .map(([k, v]) => `${k} ${n(v)}`)
      .join(', ')}`,
  );
  if ('prolific' in s.namespaces)
    row(
      'to approve',
      `${n(s.approvable)} submission(s) AWAITING REVIEW and complete${s.approvable ? ` (studyhook study approve ${s.study} shows the plan)` : ''}`,
    );
  const q = Object.entries(s.quarantined).filter(([, v]) => v > 0);
  if (q.length)
    row(
      'quarantine',
      `${q.map(([p, v]) => `${p} ${n(v)}`).join(', ')} payload(s) not counted: studyhook quarantine list --namespace <ns>`,
    );
  for (const b of s.badLines.slice(0, 20)) lines.push(`skipped ${b.file}:${b.line}: ${b.reason}`);
  if (s.badLineCount > 20) lines.push(`... and ${s.badLineCount - 20} more bad line(s)`);
  return `${lines.join('\n')}\n`;
}

/** The columns of `study participants --format csv`, for the platforms the study uses. */
function columns(platforms: readonly string[]): [string, (p: ParticipantRow) => unknown][] {
  const cols: [string, (p: ParticipantRow) => unknown][] = [
    ['participant', (p) => p.participant],
    ['classification', (p) => p.classification],
    ['missing', (p) => p.missing.join('; ')],
  ];
  if (platforms.includes('prolific'))
    cols.push(
      ['prolific_submission', (p) => p.prolific?.submission],
      ['prolific_status', (p) => p.prolific?.status],
      ['prolific_status_at', (p) => p.prolific?.statusAt],
    );
  if (platforms.includes('labvanced')) {
    cols.push(
      ['labvanced_sessions', (p) => p.labvanced?.sessions],
      ['labvanced_session', (p) => p.labvanced?.session],
      ['labvanced_status', (p) => p.labvanced?.status],
      ['labvanced_trials', (p) => p.labvanced?.trials],
      ['labvanced_files', (p) => p.labvanced?.files],
      ['labvanced_error', (p) => p.labvanced?.error],
    );
  }
  if (platforms.includes('mydatahelps'))
    cols.push(['mydatahelps_surveys', (p) => p.mydatahelps?.surveys]);
  if (platforms.includes('actigraph'))
    cols.push(
      ['actigraph_uploads', (p) => p.actigraph?.uploads],
      ['actigraph_completed', (p) => p.actigraph?.completed],
      ['actigraph_status', (p) => p.actigraph?.status],
    );
  return cols;
}

/** RFC 4180: quoted when it holds a comma, quote or line break; an absent value is an empty field. */
function csvField(v: unknown): string {
  if (v === undefined || v === null) return '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function participantsCsv(
  rows: readonly ParticipantRow[],
  platforms: readonly string[],
): string {
  const cols = columns(platforms);
  return [
    cols.map(([c]) => c).join(','),
    ...rows.map((r) => cols.map(([, f]) => csvField(f(r))).join(',')),
  ]
    .map((l) => `${l}\n`)
    .join('');
}

/** One line per participant for a person: who, classification, the state per platform, what is missing. */
export function participantsText(
  rows: readonly ParticipantRow[],
  platforms: readonly string[],
): string {
  const width = Math.min(40, Math.max(11, ...rows.map((r) => r.participant.length)));
  const out = rows.map((r) => {
    const parts: string[] = [];
    if (platforms.includes('prolific')) parts.push(`prolific ${r.prolific?.status ?? '-'}`);
    if (r.labvanced)
      parts.push(
        r.labvanced.sessions
          ? `labvanced ${r.labvanced.session} ${r.labvanced.status ?? '-'} ${r.labvanced.trials} trials ${r.labvanced.files} files`
          : 'labvanced -',
      );
    if (r.mydatahelps) parts.push(`mydatahelps ${r.mydatahelps.surveys} surveys`);
    if (r.actigraph)
      parts.push(`actigraph ${r.actigraph.completed}/${r.actigraph.uploads} uploads`);
    return `${r.participant.padEnd(width)}  ${r.classification.padEnd(23)}  ${parts.join(' | ')}${r.missing.length ? `  — missing: ${r.missing.join('; ')}` : ''}`;
  });
  return `${out.join('\n')}${out.length ? '\n' : ''}${rows.length} participant(s)\n`;
}
