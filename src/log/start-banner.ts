import { adapters } from '../../adapters/index.js';
import type { RegisterField } from '../adapter/types.js';
import type { ResolvedConfig } from '../config/load-config.js';
import { safeRedisUrl } from '../queue/redis.js';

/** Where one platform's namespace is registered: a URL, and the fields of a settings page that asks for it in parts. */
export interface Registration {
  platform: string;
  namespace: string;
  url: string;
  /** Labelled fields, for a platform whose settings page asks for the URL in parts (Labvanced: IP, Port, URL Path). */
  fields?: readonly RegisterField[];
}

/** Everything an operator needs to check after a start (the banner, or one log line off a TTY). */
export interface StartupInfo {
  role: string;
  listen?: string;
  config: string;
  envFile?: string;
  dataDir: string;
  redis: { url: string; prefix: string };
  dashboard: string;
  sinks: string[];
  baseUrl: string;
  /** False when the base URL was derived from host and port (not reachable by the platforms as is). */
  publicUrlSet: boolean;
  register: Registration[];
}

/** `server.publicUrl`, or `http://<host>:<port>` (localhost for a wildcard bind), without a trailing slash. */
export function baseUrlOf(config: ResolvedConfig, port: number): string {
  if (config.server.publicUrl) return config.server.publicUrl.replace(/\/+$/, '');
  const host = config.server.host;
  const name =
    host === '0.0.0.0' || host === '::' || host === ''
      ? 'localhost'
      : host.includes(':')
        ? `[${host}]`
        : host;
  return `http://${name}:${port}`;
}

function registration(
  base: URL,
  platform: string,
  namespace: string,
  settings: Record<string, unknown>,
): Registration {
  const ns = namespace === '*' ? '<any-name>' : namespace;
  const at = {
    base,
    origin: `${base.protocol}//${base.host}`,
    path: `${base.pathname.replace(/\/$/, '')}/${platform}/${ns}`,
  };
  const own = adapters.find((a) => a.platform === platform)?.register?.(at, settings);
  return {
    platform,
    namespace,
    url: own?.url ?? `${at.origin}${at.path}`,
    ...(own?.fields && { fields: own.fields }),
  };
}

/** What this process serves, from the config; `port` is the one actually bound. */
export function startupInfo(
  config: ResolvedConfig,
  role: string,
  sinks: string[],
  port?: number,
): StartupInfo {
  const baseUrl = baseUrlOf(config, port ?? config.server.port);
  const base = new URL(baseUrl);
  const api = role !== 'worker';
  const register = api
    ? Object.entries(config.platforms)
        .filter(([, p]) => p.enabled)
        .flatMap(([platform, p]) =>
          Object.entries(p.namespaces).map(([ns, settings]) =>
            registration(base, platform, ns, settings),
          ),
        )
    : [];
  return {
    role,
    ...(port !== undefined && { listen: `${config.server.host}:${port}` }),
    config: config.path ?? 'built-in defaults (no studyhook.yml here; `studyhook init` writes one)',
    ...(config.envFile !== undefined && { envFile: config.envFile }),
    dataDir: config.dataDir,
    redis: { url: safeRedisUrl(config.redis.url), prefix: config.redis.prefix },
    dashboard: !api
      ? 'not in a worker'
      : config.admin.token
        ? `on: ${baseUrl}/admin (admin token)`
        : 'off (set admin.token)',
    sinks,
    baseUrl,
    publicUrlSet: config.server.publicUrl !== undefined,
    register,
  };
}

/** The banner for a terminal. */
export function formatBanner(info: StartupInfo): string {
  const lines = [
    `studyhook ${info.role}${info.listen ? ` listening on ${info.listen}` : ' running'}`,
    `  config      ${info.config}${info.envFile ? ` (+ ${info.envFile})` : ''}`,
    `  data dir    ${info.dataDir}`,
    `  redis       ${info.redis.url}  prefix ${info.redis.prefix}`,
    `  dashboard   ${info.dashboard}`,
    `  sinks       ${info.sinks.join(', ')}`,
  ];
  if (info.register.length > 0) {
    lines.push(
      '',
      `Register these URLs on the platforms${info.publicUrlSet ? '' : ` (derived from host and port; set server.publicUrl to your public HTTPS URL)`}:`,
    );
    for (const r of info.register) {
      lines.push(
        `  ${r.platform.padEnd(12)} ${r.namespace.padEnd(10)} ${r.fields ? r.fields.map(([k, v]) => `${k} ${v}`).join('   ') : r.url}`,
      );
    }
  }
  return lines.join('\n');
}
