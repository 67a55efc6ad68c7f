import type { EventFilter } from '../generated/config.js';
import type { StudyhookEvent } from '../generated/event.js';

function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${glob.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
}

/** Compiles a sink's filter once: type globs, platforms and namespaces; an absent list matches all. */
export function compileFilter(filter: EventFilter): (event: StudyhookEvent) => boolean {
  const types = filter.types?.map(globToRegExp);
  const platforms = filter.platforms && new Set(filter.platforms);
  const namespaces = filter.namespaces && new Set(filter.namespaces);
  return (event) => (!types || types.some((re) => re.test(event.type)))
    && (!platforms || platforms.has(event.platform))
    && (!namespaces || namespaces.has(event.namespace));
}
