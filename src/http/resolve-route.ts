import type { Adapter, RouteSpec } from '../adapter/types.js';
import type { ResolvedPlatform } from '../config/load-config.js';
import { StudyhookError } from '../errors.js';
import { own } from '../util/own.js';
import { NAMESPACE_PATTERN, pathSegments } from './path-segments.js';

export interface RouteMatch {
  adapter: Adapter;
  route: RouteSpec;
  platform: string;
  namespace: string;
  routeName: string;
  params: Record<string, string>;
  settings: Record<string, unknown>;
  /** The key of `platforms.<p>.namespaces` whose settings apply: the namespace itself, or `*`. */
  settingsKey: string;
}

function matchRoute(
  adapter: Adapter,
  segment: string | undefined,
): { route: RouteSpec; params: Record<string, string> } | undefined {
  const wanted = segment ?? '';
  const literal = adapter.routes.find((r) => r.path === wanted);
  if (literal) return { route: literal, params: {} };
  if (segment === undefined) return undefined;
  const param = adapter.routes.find((r) => r.path.startsWith(':'));
  return param ? { route: param, params: { [param.path.slice(1)]: segment } } : undefined;
}

function unknownNamespace(adapter: Adapter, namespace: string): StudyhookError {
  return new StudyhookError(
    'SH_UNKNOWN_NAMESPACE',
    `Namespace '${namespace.slice(0, 64)}' is not configured for ${adapter.platform}`,
  );
}

/**
 * `/<platform>[/<namespace>][/<route>]`. With one segment after the platform, a literal route name
 * wins (`/labvanced/recordTrial` is the default namespace); otherwise it is the namespace.
 */
export function resolveRoute(
  path: string,
  adapters: ReadonlyMap<string, Adapter>,
  platforms: Record<string, ResolvedPlatform>,
): RouteMatch {
  const found = findRoute(path, adapters, platforms);
  if ('error' in found) throw found.error;
  return found;
}

/** Why a path matched nothing, and the platform it named when that platform is served (for CORS on the 404). */
export interface RouteMiss {
  error: StudyhookError;
  adapter?: Adapter;
  platform?: ResolvedPlatform;
}

/** resolveRoute, with a miss returned rather than thrown. */
export function findRoute(
  path: string,
  adapters: ReadonlyMap<string, Adapter>,
  platforms: Record<string, ResolvedPlatform>,
): RouteMatch | RouteMiss {
  const [platform, a, b, ...rest] = pathSegments(path);
  const adapter = platform === undefined ? undefined : adapters.get(platform);
  const conf = platform === undefined ? undefined : own(platforms, platform);
  if (!adapter || !conf?.enabled)
    return { error: new StudyhookError(adapter ? 'SH_NOT_FOUND' : 'SH_UNKNOWN_PLATFORM') };
  const miss = (error: StudyhookError): RouteMiss => ({ error, adapter, platform: conf });
  if (rest.length > 0) return miss(new StudyhookError('SH_NOT_FOUND'));
  let namespace = 'default';
  let found: ReturnType<typeof matchRoute>;
  if (b !== undefined) {
    namespace = a!;
    found = matchRoute(adapter, b);
  } else if (a !== undefined) {
    const literal = adapter.routes.some((r) => r.path === a);
    if (literal) found = matchRoute(adapter, a);
    else {
      namespace = a;
      found = matchRoute(adapter, undefined);
    }
  } else {
    found = matchRoute(adapter, undefined);
  }
  if (!found)
    return miss(
      new StudyhookError('SH_NOT_FOUND', `No ${adapter.platform} route at ${path.slice(0, 200)}`),
    );
  if (!NAMESPACE_PATTERN.test(namespace)) return miss(unknownNamespace(adapter, namespace));
  // why: own keys only: `/sensorlogger/constructor` must not find Object.prototype.constructor as a namespace's settings.
  const settingsKey = Object.hasOwn(conf.namespaces, namespace) ? namespace : '*';
  const settings = own(conf.namespaces, settingsKey);
  if (!settings) return miss(unknownNamespace(adapter, namespace));
  return {
    adapter,
    route: found.route,
    platform: adapter.platform,
    namespace,
    routeName: found.route.path.startsWith(':') ? found.route.path : found.route.path,
    params: found.params,
    settings,
    settingsKey,
  };
}
