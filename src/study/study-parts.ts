import { adapters } from '../../adapters/index.js';
import type { StudyPart } from './study-part.js';

/** A platform's study part with its platform's name. */
export type PlatformStudyPart = StudyPart & { platform: string };

let parts: readonly PlatformStudyPart[] | undefined;

/** The study parts of the registry's adapters, in their `order`. why: computed on first use, as the adapters' modules import the study's helpers. */
export function studyParts(): readonly PlatformStudyPart[] {
  parts ??= adapters
    .flatMap((a) => (a.study ? [{ ...a.study, platform: a.platform }] : []))
    .sort((a, b) => a.order - b.order);
  return parts;
}

/** The parts of the platforms a study uses. */
export function usedParts(namespaces: Record<string, string>): PlatformStudyPart[] {
  return studyParts().filter((p) => Object.hasOwn(namespaces, p.platform));
}
