import type { BadLine } from '../export/bad-lines.js';

// The study's core types. A platform's study part (src/study/study-part.ts) adds its own fields to
// StudyFacts, ParticipantRow, StudySummary and StudyExpectations by module augmentation of this
// module (`declare module '../../src/study/types.js' { interface StudyFacts { ... } }`).

/** What a participant's state across platforms amounts to (docs/studies.md, "Classifications"). */
export type Classification =
  'complete' | 'incomplete' | 'no data' | 'data without submission' | 'returned/timed out';

/**
 * One participant across the study's platforms: these fields, and under each platform's key what
 * its study part says of the participant (it adds the key to this interface by module augmentation).
 */
export interface ParticipantRow {
  /** The linking value (e.g. the Prolific id); for data that names no participant, `(labvanced session 102)`. */
  participant: string;
  classification: Classification;
  /** What keeps the participant from `complete`, one item each (empty when complete). */
  missing: string[];
  /** What the participant has, in words (the approval plan's "why"). */
  has: string[];
}

/**
 * What the archive says about a study before anyone is classified: these fields, and each
 * platform's own (its study part adds them to this interface by module augmentation).
 */
export interface StudyFacts {
  /** Archived event lines per platform (copies included), and the newest `receivedat` per platform. */
  events: Record<string, number>;
  lastEvent: Record<string, string | null>;
  badLines: BadLine[];
  badLineCount: number;
  /** Events received per hour (`YYYY-MM-DDTHH`) per platform, over the hours asked for (empty unless asked). */
  hourly: { hour: string; platform: string; events: number }[];
}

/**
 * What a complete participant has sent, per platform, defaults filled in: each platform's study
 * part adds its entry (`labvanced: LabvancedExpect`) by module augmentation.
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- filled by the adapters' augmentations
export interface StudyExpectations {}

/** A study after defaults: its namespace per platform, the linking fields per platform, what complete means. */
export interface StudyDef {
  name: string;
  /** Namespace per platform (only the platforms the study uses). */
  namespaces: Record<string, string>;
  /** Linking fields per linked platform the study uses, first present wins. */
  participant: Partial<Record<string, string[]>>;
  expect: StudyExpectations;
  /** True when no `studies.<name>` was configured and the name was taken as a namespace on every platform. */
  implicit?: boolean;
}

/**
 * Counts of one study: per platform and status, per classification, and what was skipped; a
 * platform's study part may add fields (by module augmentation), which come after `classifications`.
 */
export interface StudySummary {
  study: string;
  namespaces: Record<string, string>;
  /** True when the study is not configured and was taken as one namespace on every platform. */
  implicit: boolean;
  /** Archived event lines per platform, and the newest one received per platform. */
  events: Record<string, number>;
  lastEvent: Record<string, string | null>;
  /** Per platform, units by status (Prolific submissions, Labvanced sessions, ...): from the platforms' study parts. */
  statuses: Record<string, Record<string, number>>;
  participants: number;
  classifications: Record<Classification, number>;
  quarantined: Record<string, number>;
  badLines: { file: string; line: number; reason: string }[];
  badLineCount: number;
}
