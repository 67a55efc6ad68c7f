import type { Classification, ParticipantRow, StudyDef, StudyFacts } from './types.js';
import { studyParts, usedParts } from './study-parts.js';

export const CLASSIFICATIONS: readonly Classification[] = [
  'complete',
  'incomplete',
  'no data',
  'data without submission',
  'returned/timed out',
];

/** Classifies every participant the study's archive names, sorted by participant. */
export function classifyParticipants(study: StudyDef, facts: StudyFacts): ParticipantRow[] {
  const people = new Map<string, Map<string, unknown[]>>();
  for (const part of studyParts())
    for (const [key, unit] of part.units?.(facts) ?? []) {
      let units = people.get(key);
      if (!units) people.set(key, (units = new Map()));
      const mine = units.get(part.platform);
      if (mine) mine.push(unit);
      else units.set(part.platform, [unit]);
    }
  const used = usedParts(study.namespaces);
  const out: ParticipantRow[] = [];
  for (const [participant, units] of people) {
    const missing: string[] = [];
    const has: string[] = [];
    const row: Record<string, unknown> = { participant, missing, has };
    let data = false;
    let left = false;
    let unrecruited = false;
    for (const part of used) {
      const p = part.judge?.(units.get(part.platform) ?? [], { study, facts });
      if (!p) continue;
      if (p.row !== undefined) row[part.platform] = p.row;
      missing.push(...(p.missing ?? []));
      has.push(...(p.has ?? []));
      data ||= p.data === true;
      left ||= p.left === true;
      unrecruited ||= p.recruited === false;
    }
    const classification: Classification = left
      ? 'returned/timed out'
      : !data
        ? 'no data'
        : unrecruited
          ? 'data without submission'
          : missing.length > 0
            ? 'incomplete'
            : 'complete';
    out.push({ ...row, classification } as ParticipantRow);
  }
  return out.sort((a, b) => a.participant.localeCompare(b.participant));
}
