import { ExportError, firstLine } from '../export/export-error.js';
import { openArchive, type Archive } from '../export/open-archive.js';
import { quarantineCount } from '../export/quarantine-count.js';
import {
  CLASSIFICATIONS,
  classifyParticipants,
  type Classification,
  type ParticipantRow,
} from './classify.js';
import type { StudyDef } from './study-config.js';
import { StudyError } from './study-error.js';
import { readStudyFacts, type StudyFacts } from './study-facts.js';

/** Counts of one study: per platform and status, per classification, and what was skipped. */
export interface StudySummary {
  study: string;
  namespaces: Record<string, string>;
  /** True when the study is not configured and was taken as one namespace on every platform. */
  implicit: boolean;
  /** Archived event lines per platform, and the newest one received per platform. */
  events: Record<string, number>;
  lastEvent: Record<string, string | null>;
  /** Per platform, units by status: Prolific submissions, Labvanced sessions, ActiGraph and Sensor Logger uploads, MyDataHelps surveys. */
  statuses: Record<string, Record<string, number>>;
  participants: number;
  classifications: Record<Classification, number>;
  /** Submissions `study approve` would approve now (AWAITING REVIEW and complete, not yet approved by it). */
  approvable: number;
  quarantined: Record<string, number>;
  badLines: { file: string; line: number; reason: string }[];
  badLineCount: number;
}

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

const bump = (r: Record<string, number>, k: string | null): void => {
  const key = k ?? '(none)';
  r[key] = (r[key] ?? 0) + 1;
};

/** Whether `study approve` would approve this participant's submission now. */
export function approvable(p: ParticipantRow): boolean {
  return (
    p.classification === 'complete' &&
    p.prolific?.status === 'AWAITING REVIEW' &&
    !p.prolific.approvedByStudyhook
  );
}

function summarise(
  study: StudyDef,
  facts: StudyFacts,
  participants: ParticipantRow[],
  quarantined: Record<string, number>,
): StudySummary {
  const statuses: Record<string, Record<string, number>> = {};
  const add = (platform: string, status: string | null, n = 1) => {
    const r = (statuses[platform] ??= {});
    for (let i = 0; i < n; i++) bump(r, status);
  };
  for (const s of facts.submissions) add('prolific', s.status);
  for (const s of facts.sessions) add('labvanced', s.status);
  for (const u of facts.uploads) add('actigraph', u.status);
  if (facts.surveys.length > 0)
    statuses['mydatahelps'] = { submitted: facts.surveys.reduce((n, c) => n + c.count, 0) };
  if (Object.keys(facts.sensorlogger).length > 0)
    statuses['sensorlogger'] = { ...facts.sensorlogger };
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
    approvable: participants.filter(approvable).length,
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
