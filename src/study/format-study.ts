import type { ParticipantRow, StudySummary } from './types.js';
import { studyParts, usedParts } from './study-parts.js';

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
  for (const part of usedParts(s.namespaces))
    for (const [label, text] of part.statusLines?.(s) ?? []) row(label, text);
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
function columns(
  platforms: readonly string[],
): (readonly [string, (p: ParticipantRow) => unknown])[] {
  return [
    ['participant', (p) => p.participant],
    ['classification', (p) => p.classification],
    ['missing', (p) => p.missing.join('; ')],
    ...studyParts()
      .filter((part) => platforms.includes(part.platform))
      .flatMap((part) => part.columns ?? []),
  ];
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
  const used = studyParts().filter((part) => platforms.includes(part.platform));
  const width = Math.min(40, Math.max(11, ...rows.map((r) => r.participant.length)));
  const out = rows.map((r) => {
    const parts = used.flatMap((part) => (part.text ? [part.text(r)] : []));
    return `${r.participant.padEnd(width)}  ${r.classification.padEnd(23)}  ${parts.join(' | ')}${r.missing.length ? `  — missing: ${r.missing.join('; ')}` : ''}`;
  });
  return `${out.join('\n')}${out.length ? '\n' : ''}${rows.length} participant(s)\n`;
}
