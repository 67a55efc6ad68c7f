import type { Study } from '../generated/config.js';
import { type SchemaProblem, validateWith } from '../schemas.js';
import { ownRecord } from '../util/own.js';
import { studyParts } from './study-parts.js';
import type { StudyDef, StudyExpectations } from './types.js';

let platformsSchema: object | undefined;

/**
 * The platforms' entries of every study (`namespaces.<p>`, `participant.<p>`, `expect.<p>`), each
 * checked against its platform's study schema; a platform without a study part is unknown there.
 * why: no `type` here: the config schema has already said what is not an object.
 */
function platformProblems(studies: unknown): SchemaProblem[] {
  const parts = studyParts();
  const each = (key: string, has: (p: (typeof parts)[number]) => boolean) => ({
    additionalProperties: false,
    properties: Object.fromEntries(
      parts.filter(has).map((p) => [p.platform, { $ref: `${p.schema}#/properties/${key}` }]),
    ),
  });
  platformsSchema ??= {
    additionalProperties: {
      properties: {
        namespaces: each('namespace', () => true),
        participant: each('participant', (p) => p.participant !== undefined),
        expect: each('expect', (p) => p.expect !== undefined),
      },
    },
  };
  return validateWith(platformsSchema, studies).map((p) => ({
    ...p,
    path: `/studies${p.path === '/' ? '' : p.path}`,
  }));
}

const noNamespace = (name: string, platform: string) =>
  `the study has no ${platform} namespace (add studies.${name}.namespaces.${platform})`;

/** Resolves `studies` (already checked by the schema): defaults filled in, linking fields checked. */
export function resolveStudies(
  studies: Record<string, Study> | undefined,
  problems: SchemaProblem[],
): Record<string, StudyDef> {
  const out = Object.create(null) as Record<string, StudyDef>;
  if (studies && typeof studies === 'object') problems.push(...platformProblems(studies));
  for (const [name, s] of Object.entries(studies ?? {})) {
    if (!s?.namespaces) continue;
    const namespaces = ownRecord(
      Object.fromEntries(
        Object.entries(s.namespaces).filter((e): e is [string, string] => typeof e[1] === 'string'),
      ),
    );
    // why: each platform's entry was checked by the config schema; the study parts know what it means.
    const givenFields = s.participant as Record<string, string | string[] | undefined> | undefined;
    const givenExpect = s.expect as Record<string, unknown> | undefined;
    const participant: StudyDef['participant'] = {};
    const expect: Record<string, unknown> = {};
    for (const { platform, participant: link, expect: resolve } of studyParts()) {
      if (resolve) expect[platform] = resolve(givenExpect?.[platform]);
      if (!link) continue;
      const given = givenFields?.[platform];
      const fields =
        given === undefined ? [...link.defaults] : Array.isArray(given) ? given : [given];
      const path = `/studies/${name}/participant/${platform}`;
      if (given !== undefined && !Object.hasOwn(namespaces, platform))
        problems.push({ path, message: noNamespace(name, platform) });
      for (const f of fields)
        if (!link.allowed(f))
          problems.push({
            path,
            message: `'${f}' is not a ${platform} field studyhook links on (use ${link.say})`,
          });
      if (Object.hasOwn(namespaces, platform)) participant[platform] = fields;
    }
    for (const platform of Object.keys(givenExpect ?? {})) {
      if (!Object.hasOwn(namespaces, platform))
        problems.push({
          path: `/studies/${name}/expect/${platform}`,
          message: noNamespace(name, platform),
        });
    }
    out[name] = { name, namespaces, participant, expect: expect as unknown as StudyExpectations };
  }
  return out;
}

/** A study for a name that is not configured: that namespace on each of the given platforms, with the defaults. */
export function implicitStudy(name: string, platforms: readonly string[]): StudyDef {
  const namespaces = Object.fromEntries(platforms.map((p) => [p, name]));
  const [study] = Object.values(resolveStudies({ [name]: { namespaces } }, []));
  return { ...study!, implicit: true };
}
