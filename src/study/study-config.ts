import type { Study } from '../generated/config.js';
import type { SchemaProblem } from '../schemas.js';
import { ownRecord } from '../util/own.js';

/** The platforms a study links per participant, in the order their columns appear. */
export const LINKED_PLATFORMS = ['prolific', 'labvanced', 'mydatahelps', 'actigraph'] as const;
export type LinkedPlatform = (typeof LINKED_PLATFORMS)[number];

/** A study after defaults: its namespace per platform, the linking fields per platform, what complete means. */
export interface StudyDef {
  name: string;
  /** Namespace per platform (only the platforms the study uses). */
  namespaces: Record<string, string>;
  /** Linking fields per linked platform the study uses, first present wins. */
  participant: Partial<Record<LinkedPlatform, string[]>>;
  expect: {
    labvanced: { sessions: number; trials?: number | Record<string, number>; files?: number };
    mydatahelps: { surveys: number };
    actigraph: { uploads: number };
  };
  /** True when no `studies.<name>` was configured and the name was taken as a namespace on every platform. */
  implicit?: boolean;
}

/**
 * The defaults: Prolific passes PROLIFIC_PID to the experiment URL and Labvanced records it as
 * `subject_code` (or the crowdsourcing id of its meta information), so a Prolific + Labvanced study
 * links without any `participant` setting.
 */
export const DEFAULT_FIELDS: Record<LinkedPlatform, string[]> = {
  prolific: ['participant_id'],
  labvanced: ['subject_code', 'var_data.crowdsourcinSubjId'],
  mydatahelps: ['ParticipantIdentifier'],
  actigraph: ['subjectId'],
};

/** Which fields each platform can be linked on, and how to say so in an error. */
const ALLOWED: Record<LinkedPlatform, { test: (f: string) => boolean; say: string }> = {
  prolific: { test: (f) => f === 'participant_id', say: 'participant_id' },
  labvanced: {
    test: (f) => f === 'subject_code' || f === 'token' || /^(var_data|survey_data)\.[^.]+$/.test(f),
    say: 'subject_code, token, var_data.<name> or survey_data.<name>',
  },
  mydatahelps: {
    test: (f) => f === 'ParticipantIdentifier' || f === 'ParticipantID',
    say: 'ParticipantIdentifier or ParticipantID',
  },
  actigraph: { test: (f) => f === 'subjectId', say: 'subjectId' },
};

/** Resolves `studies` (already checked by the schema): defaults filled in, linking fields checked. */
export function resolveStudies(
  studies: Record<string, Study> | undefined,
  problems: SchemaProblem[],
): Record<string, StudyDef> {
  const out = Object.create(null) as Record<string, StudyDef>;
  for (const [name, s] of Object.entries(studies ?? {})) {
    if (!s?.namespaces) continue;
    const namespaces = ownRecord(
      Object.fromEntries(
        Object.entries(s.namespaces).filter((e): e is [string, string] => typeof e[1] === 'string'),
      ),
    );
    const participant: StudyDef['participant'] = {};
    for (const platform of LINKED_PLATFORMS) {
      const given = s.participant?.[platform];
      const fields =
        given === undefined ? DEFAULT_FIELDS[platform] : Array.isArray(given) ? given : [given];
      const path = `/studies/${name}/participant/${platform}`;
      if (given !== undefined && !Object.hasOwn(namespaces, platform))
        problems.push({
          path,
          message: `the study has no ${platform} namespace (add studies.${name}.namespaces.${platform})`,
        });
      for (const f of fields)
        if (!ALLOWED[platform].test(f))
          problems.push({
            path,
            message: `'${f}' is not a ${platform} field studyhook links on (use ${ALLOWED[platform].say})`,
          });
      if (Object.hasOwn(namespaces, platform)) participant[platform] = fields;
    }
    for (const platform of Object.keys(s.expect ?? {})) {
      if (!Object.hasOwn(namespaces, platform))
        problems.push({
          path: `/studies/${name}/expect/${platform}`,
          message: `the study has no ${platform} namespace (add studies.${name}.namespaces.${platform})`,
        });
    }
    const lv = s.expect?.labvanced;
    out[name] = {
      name,
      namespaces,
      participant,
      expect: {
        labvanced: {
          sessions: lv?.sessions ?? 1,
          ...(lv?.trials !== undefined && { trials: lv.trials }),
          ...(lv?.files !== undefined && { files: lv.files }),
        },
        mydatahelps: { surveys: s.expect?.mydatahelps?.surveys ?? 1 },
        actigraph: { uploads: s.expect?.actigraph?.uploads ?? 1 },
      },
    };
  }
  return out;
}

/** A study for a name that is not configured: that namespace on each of the given platforms, with the defaults. */
export function implicitStudy(name: string, platforms: readonly string[]): StudyDef {
  const namespaces = Object.fromEntries(platforms.map((p) => [p, name]));
  const [study] = Object.values(resolveStudies({ [name]: { namespaces } }, []));
  return { ...study!, implicit: true };
}
