import type { DuckDBConnection } from '@duckdb/node-api';
import type { ParseArgsConfig } from 'node:util';
import type { ResolvedConfig } from '../config/load-config.js';
import type { Archive } from '../export/open-archive.js';
import type { SchemaId } from '../schema-id.js';
import type { ParticipantRow, StudyDef, StudyFacts, StudySummary } from './types.js';

/**
 * What one platform contributes to a study (`studyhook study`, the study page), as an adapter's
 * `study`. The core reads the archive, groups units by participant and composes rows, summaries,
 * columns and the page from these parts; it names no platform. A platform adds its own fields to
 * {@link StudyFacts}, {@link ParticipantRow}, {@link StudySummary} and `StudyExpectations` by module
 * augmentation of src/study/types.ts, so the composed types stay exact. See docs/adding-a-platform.md, "Its part in a study".
 */
export interface StudyPart<U = any, C extends StudyEntry = any> {
  /**
   * Schema of the platform's entries in `studies.<s>` (`schemas/<platform>/study.schema.json`): its
   * `namespace` (as `namespaces.<platform>`), and its `participant` and `expect` when the part has them.
   */
  schema: SchemaId<C>;
  /**
   * Where the platform comes among the study's platforms (ascending): its key in a participant's
   * row, its CSV columns, its part of a text line, its line in `study status`, its page column.
   */
  order: number;
  /** `studies.<s>.participant.<platform>`: the fields that may name a participant, and the default. */
  participant?: { defaults: readonly string[]; allowed: (field: string) => boolean; say: string };
  /** `studies.<s>.expect.<platform>` with its defaults filled in (`schema` checked it). */
  expect?: (given: C['expect']) => unknown;
  /** The export tables `facts` queries; built for the study when the archive holds the platform. */
  tables?: readonly string[];
  /** Reads the platform's facts; called for every study, it returns empty facts when `has` is false. */
  facts: (ctx: StudyFactsContext) => Promise<Partial<StudyFacts>>;
  /** The units that name a participant (or stand for one, e.g. `(labvanced session 102)`), with that name. */
  units?: (facts: StudyFacts) => Iterable<readonly [participant: string, unit: U]>;
  /** One participant's part on this platform, when the study uses it (`units` may be empty). */
  judge?: (units: readonly U[], ctx: { study: StudyDef; facts: StudyFacts }) => ParticipantPart;
  /** `study status`: each unit's status, counted; platforms listed so come before those with `statusCounts`. */
  unitStatuses?: (facts: StudyFacts) => Iterable<string | null>;
  /** `study status`: counts by status for a platform without per-unit statuses (undefined: no line). */
  statusCounts?: (facts: StudyFacts) => Record<string, number> | undefined;
  /** Fields the platform adds to the summary, whatever platforms the study uses (Prolific's `approvable`). */
  summary?: (participants: readonly ParticipantRow[]) => Partial<StudySummary>;
  /** `study status` lines after the participants line, when the study uses the platform. */
  statusLines?: (summary: StudySummary) => readonly (readonly [label: string, text: string])[];
  /** `study participants --format csv`: the platform's columns, when the study uses it. */
  columns?: readonly (readonly [name: string, value: (row: ParticipantRow) => unknown])[];
  /** `study participants`: the platform's part of a participant's line, when the study uses it. */
  text?: (row: ParticipantRow) => string;
  /** The study page. */
  page?: StudyPagePart;
  /** `studyhook study <action> <study>` actions the platform offers (Prolific's `approve`). */
  actions?: readonly StudyAction[];
}

/** The platform's entries of a study, as its study schema types them. */
export interface StudyEntry {
  namespace?: string;
  participant?: string | string[];
  expect?: unknown;
}

/** What a platform's `judge` says of one participant. */
export interface ParticipantPart {
  /** The participant's entry under the platform's key in the row (none: no key). */
  row?: unknown;
  /** What keeps the participant from `complete` here, and what they have, in words. */
  missing?: readonly string[];
  has?: readonly string[];
  /** The participant sent data here (no platform with data: `no data`). */
  data?: boolean;
  /** From a recruitment platform: false when it has no record of the participant (`data without submission`). */
  recruited?: boolean;
  /** From a recruitment platform: the participant left, no data is expected (`returned/timed out`). */
  left?: boolean;
}

export interface StudyFactsContext {
  archive: Archive;
  conn: DuckDBConnection;
  study: StudyDef;
  /** The archive holds this platform's events for the study. */
  has: boolean;
}

/** One bar of the funnel chart. */
export type FunnelBar = readonly [label: string, count: number];

export interface StudyPagePart {
  /** The platform's colour in the charts. */
  color: string;
  /** Funnel bars, when the study uses the platform: every platform's steps come first, then the outcomes. */
  funnel?: (state: { facts: StudyFacts; summary: StudySummary }) => {
    steps?: readonly FunnelBar[];
    outcomes?: readonly FunnelBar[];
  };
  /** A column of its own in the participants table (shown for every study). */
  column?: { header: string; cell: (row: ParticipantRow) => string };
  /** Its entry in the table's "other platforms" column. */
  other?: (row: ParticipantRow) => string | undefined;
  /** Cards after the classifications, when the study uses the platform. */
  cards?: (summary: StudySummary) => readonly (readonly [count: number, label: string])[];
}

/** One `studyhook study <name> <study>` action of a platform; it runs after the study is read. */
export interface StudyAction {
  name: string;
  /** Its lines of `studyhook study --help`, after the name's column. */
  help: readonly string[];
  /** Its words in the command's one-line summary, e.g. `approve on Prolific`. */
  summary: string;
  /** Its options (`node:util` parseArgs), accepted by the command. */
  options: NonNullable<ParseArgsConfig['options']>;
  run: (ctx: StudyActionContext) => Promise<number>;
}

export interface StudyActionContext {
  config: ResolvedConfig;
  study: StudyDef;
  participants: readonly ParticipantRow[];
  values: Record<string, string | boolean | undefined>;
  out: (line: string) => void;
}

/** Typed identity helper for an adapter's study part. */
export function defineStudyPart<U, C extends StudyEntry>(part: StudyPart<U, C>): StudyPart<U, C> {
  return part;
}
