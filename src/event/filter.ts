import type { EventFilter } from '../generated/config.js';
import type { StudyhookEvent } from '../generated/event.js';
import { holds, parseCondition } from './where.js';

function globToRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .split('*')
      .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
}

/** Syntax problems in a filter's `where` conditions, as `{path, message}` under `base` (checked at config load). */
export function filterProblems(
  filter: EventFilter | undefined,
  base: string,
): { path: string; message: string }[] {
  return (filter?.where ?? []).flatMap((w, i) => {
    try {
      parseCondition(w);
      return [];
    } catch (err) {
      return [{ path: `${base}/where/${i}`, message: (err as Error).message }];
    }
  });
}

/** Compiles a sink's filter once: type globs, platforms, namespaces and `where` conditions; an absent list matches all. */
export function compileFilter(filter: EventFilter): (event: StudyhookEvent) => boolean {
  const types = filter.types?.map(globToRegExp);
  const platforms = filter.platforms && new Set(filter.platforms);
  const namespaces = filter.namespaces && new Set(filter.namespaces);
  const where = (filter.where ?? []).map(parseCondition);
  return (event) =>
    (!types || types.some((re) => re.test(event.type))) &&
    (!platforms || platforms.has(event.platform)) &&
    (!namespaces || namespaces.has(event.namespace)) &&
    where.every((c) => holds(c, event));
}
