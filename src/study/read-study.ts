import { ExportError, firstLine } from '../export/export-error.js';
import { openArchive, type Archive } from '../export/open-archive.js';
import { quarantineCount } from '../export/quarantine-count.js';
import { CLASSIFICATIONS, classifyParticipants } from './classify.js';
import { StudyError } from './study-error.js';
import { readStudyFacts } from './study-facts.js';
import { studyParts } from './study-parts.js';
import type {
  Classification,
  ParticipantRow,
  StudyDef,
  StudyFacts,
  StudySummary,
} from './types.js';

/** A study read from the archive: its summary and one row per participant. */
export interface StudyState {
  summary: StudySummary;
  participants: ParticipantRow[];
  facts: StudyFacts;
}

export interface ReadStudyOptions {
  study: StudyDef;
  archiveDir: string;
  dataDir: string;
  /** DuckDB's memory limit (default 400MB: peak RSS stays under 1 GiB at 2 million events). */
  memoryLimit?: string;
  threads?: number;
  step?: (label: string) => void;
  /** Also count events per hour per platform received since then (the study page's chart). */
  hourlySince?: Date;
}

/**
 * Counts by status, in first-seen order. why a Map: a status comes from a platform's data, and one
 * named like `__proto__` or `constructor` would read an inherited value from a plain object.
 */
function countStatuses(statuses: Iterable<string | null>): Record<string, number> {
  const n = new Map<string, number>();
  for (const s of statuses) n.set(s ?? '(none)', (n.get(s ?? '(none)') ?? 0) + 1);
  return Object.fromEntries(n);
}

function summarise(
  study: StudyDef,
  facts: StudyFacts,
  participants: ParticipantRow[],
  quarantined: Record<string, number>,
): StudySummary {
  const parts = studyParts();
  // why: platforms that give each unit's status come first, then those that give counts.
  const statuses: Record<string, Record<string, number>> = {};
  for (const part of parts) {
    const each = part.unitStatuses ? [...part.unitStatuses(facts)] : [];
    if (each.length > 0) statuses[part.platform] = countStatuses(each);
  }
  for (const part of parts) {
    const counts = part.statusCounts?.(facts);
    if (counts) statuses[part.platform] = counts;
  }
  const classifications = Object.fromEntries(CLASSIFICATIONS.map((c) => [c, 0])) as Record<
    Classification,
    number
  >;
  for (const p of participants) classifications[p.classification] += 1;
  return {
    study: study.name,
    namespaces: { ...study.namespaces },
    implicit: study.implicit === true,
    events: facts.events,
    lastEvent: facts.lastEvent,
    statuses,
    participants: participants.length,
    classifications,
    ...Object.assign({}, ...parts.map((p) => p.summary?.(participants))),
    quarantined,
    badLines: facts.badLines,
    badLineCount: facts.badLineCount,
  };
}

/** Reads one study from the archive with the export's engine and classifies its participants. */
export async function readStudy(opts: ReadStudyOptions): Promise<StudyState> {
  const { study } = opts;
  let archive: Archive | undefined;
  try {
    archive = await openArchive({
      archiveDir: opts.archiveDir,
      namespace: study.name,
      namespaces: study.namespaces,
      ...(opts.memoryLimit !== undefined && { memoryLimit: opts.memoryLimit }),
      ...(opts.threads !== undefined && { threads: opts.threads }),
    });
    const facts = await readStudyFacts(archive, study, opts.step, opts.hourlySince);
    const participants = classifyParticipants(study, facts);
    const quarantined: Record<string, number> = {};
    for (const [platform, ns] of Object.entries(study.namespaces))
      quarantined[platform] = await quarantineCount(opts.dataDir, ns, [platform]);
    return { summary: summarise(study, facts, participants, quarantined), participants, facts };
  } catch (err) {
    if (err instanceof StudyError) throw err;
    if (err instanceof ExportError) throw new StudyError(err.message);
    throw new StudyError(firstLine(err), { cause: err });
  } finally {
    await archive?.close();
  }
}
