import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import proxyaddr from 'proxy-addr';
import { parse as parseYaml } from 'yaml';
import { adapters } from '../../adapters/index.js';
import type { Adapter } from '../adapter/types.js';
import { StudyhookError } from '../errors.js';
import type { SinkConfig, StudyhookConfig } from '../generated/config.js';
import { type SchemaProblem, validateConfig } from '../schemas.js';
import { normaliseOrigin } from '../http/normalise-origin.js';
import { filterProblems } from '../event/filter.js';
import { NAMESPACE_PATTERN } from '../http/path-segments.js';
import { builtinSink, builtinSinks } from '../sinks/builtin/index.js';
import { resolveStudies } from '../study/study-config.js';
import type { StudyDef } from '../study/types.js';
import { own, ownRecord } from '../util/own.js';
import { clusterUrl, isClusterUrl } from '../queue/redis-url.js';
import { applyDotEnv, readDotEnv, withDotEnv } from './dot-env.js';
import { interpolate, type InterpolationProblem } from './interpolate.js';

export type Env = Record<string, string | undefined>;

/** Every property required, in nested objects too: a section whose every field has a default in the schema. */
type Filled<T> = T extends readonly unknown[]
  ? T
  : T extends object
    ? { [K in keyof T]-?: Filled<T[K]> }
    : T;
/** `T` with the properties `K`, which have defaults in the schema, required. */
type WithDefaults<T, K extends keyof T> = Omit<T, K> & { [P in K]-?: NonNullable<T[P]> };
type Section<K extends keyof StudyhookConfig> = NonNullable<StudyhookConfig[K]>;

/**
 * A sink entry after the schema's defaults (ajv's useDefaults): exactly one of `use` or `module`
 * (absolute when it is a path). `concurrency` unset: the sink's own default (`Sink.concurrency`), else 8.
 */
export type ResolvedSink = WithDefaults<SinkConfig, 'options' | 'filter' | 'attempts'> & {
  backoff: Filled<NonNullable<SinkConfig['backoff']>>;
};

export interface ResolvedPlatform {
  enabled: boolean;
  namespaces: Record<string, Record<string, unknown>>;
  client: Record<string, unknown>;
}

/**
 * The configuration after interpolation, env overrides, validation and the schema's defaults: the
 * generated StudyhookConfig with the defaulted fields required, and the few resolved here.
 */
export interface ResolvedConfig {
  /**
   * `trustProxy`: addresses, subnets or proxy-addr names of the trusted reverse proxies; empty: forwarding headers are ignored.
   * `publicUrl`: the base URL the platforms reach the gateway at; unset: derived from host and port.
   */
  server: Filled<Omit<Section<'server'>, 'trustProxy' | 'publicUrl'>> &
    Pick<Section<'server'>, 'publicUrl'> & { trustProxy: readonly string[] };
  /** `url` is a redis+cluster:// URL when `redis.cluster` was given; `prefix` has its default for one server or a cluster. */
  redis: WithDefaults<
    Omit<Section<'redis'>, 'cluster'>,
    'url' | 'prefix' | 'waitReplicas' | 'waitTimeoutMs'
  >;
  /** Where files are kept (`blobs`, defaults filled in). */
  blobs: BlobsConfig;
  spool: Filled<Section<'spool'>>;
  workers: WithDefaults<Section<'workers'>, 'stalledIntervalMs' | 'lockDurationMs' | 'maxStalls'>;
  /** No token: admin surfaces are disabled. */
  admin: Section<'admin'>;
  dataDir: string;
  /** Mode of data files (numeric, from the config's octal string). */
  fileMode: number;
  log: Filled<Section<'log'>>;
  dedupTtlSeconds: number;
  platforms: Record<string, ResolvedPlatform>;
  sinks: ResolvedSink[];
  /** `studies`, defaults filled in (docs/studies.md). */
  studies: Record<string, StudyDef>;
  /** Where the config came from (undefined: built-in defaults). */
  path: string | undefined;
  /** The `.env` read next to the config file, if any. */
  envFile: string | undefined;
  /** Values that came from the environment: masked by `studyhook check`, never logged. */
  secretValues: ReadonlySet<string>;
}

/** The `blobs` section with its defaults. */
export type BlobsConfig =
  | { type: 'filesystem' }
  | {
      type: 's3';
      bucket: string;
      endpoint?: string;
      region: string;
      prefix: string;
      forcePathStyle: boolean;
      partSizeBytes: number;
      queueSize: number;
      /** Filled in from the schema's default when loaded; optional for stores built in code. */
      idleTimeoutMs?: number;
      /** Filled in from the schema's default when loaded; optional for stores built in code. */
      sharedBufferBytes?: number;
      abortIncompleteAfterMs: number;
    };

export interface LoadOptions {
  path?: string | undefined;
  /** The environment (default process.env, which then also receives the `.env` values it lacks). */
  env?: Env;
  cwd?: string;
  /**
   * Parts of the config (JSON-pointer paths, matched as a prefix; `*` is one segment) whose `${VAR}`
   * may be unset: a command that does not use them (replay needs no platform secret) must not demand them.
   */
  secretsNotNeeded?: readonly string[];
}

/** Reads, interpolates, overrides from env, validates and resolves the config. Every problem is reported at once. */
export function loadConfig(opts: LoadOptions = {}): ResolvedConfig {
  const realEnv = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const path =
    opts.path ??
    (realEnv['STUDYHOOK_CONFIG'] || undefined) ??
    (existsSync(resolve(cwd, 'studyhook.yml')) ? 'studyhook.yml' : undefined);
  const absPath = path === undefined ? undefined : resolve(cwd, path);
  // why: only next to a config file; with the built-in defaults a .env in the working directory may be docker compose's, meant for containers.
  const dot = absPath ? readDotEnv(dirname(absPath)) : undefined;
  if (opts.env === undefined) applyDotEnv(dot);
  const env = withDotEnv(realEnv, dot);
  let raw: unknown = {};
  if (absPath) {
    if (!existsSync(absPath))
      throw new StudyhookError(
        'SH_CONFIG_NOT_FOUND',
        `Config file ${absPath} does not exist (from --config or STUDYHOOK_CONFIG)`,
      );
    try {
      raw = parseYaml(readFileSync(absPath, 'utf8')) ?? {};
    } catch (err) {
      throw new StudyhookError(
        'SH_CONFIG_INVALID',
        `Config file ${absPath} is not valid YAML/JSON: ${(err as Error).message}`,
      );
    }
  }
  const problems: SchemaProblem[] = [];
  const secretValues = new Set<string>();
  const envProblems: InterpolationProblem[] = [];
  const doc = interpolate(raw, env, '', envProblems, secretValues) as StudyhookConfig;
  const notNeeded = (opts.secretsNotNeeded ?? []).map(pathPattern);
  const skipped = envProblems.filter((p) => notNeeded.some((re) => re.test(p.path)));
  problems.push(...envProblems.filter((p) => !skipped.includes(p)));
  applyEnvOverrides(doc, env, problems);
  // why: `token: "${ADMIN_TOKEN:-}"` lets one config serve deployments with and without the
  // dashboard; an empty token means "off", as an absent one does, not "too short".
  if (doc.admin?.token === '') delete doc.admin.token;
  addArchive(doc);
  problems.push(...validateConfig('studyhook/config', doc));
  const trustProxy = resolveTrustProxy(doc.server?.trustProxy, problems);
  const baseDir = absPath ? dirname(absPath) : cwd;
  const platforms = resolvePlatforms(doc, problems);
  const sinks = resolveSinks(doc, baseDir, problems);
  const studies = resolveStudies(doc.studies, problems);
  // why: a field whose variable is missing would also fail its schema (too short, not a URL): one line per cause.
  const causes = envProblems.map((p) => p.path);
  const reported = problems.filter(
    (p) =>
      !causes.some(
        (c) =>
          (p.path === c || p.path.startsWith(`${c}/`)) &&
          !envProblems.includes(p as InterpolationProblem),
      ),
  );
  problems.length = 0;
  problems.push(...reported);
  if (problems.length > 0) {
    const list = problems.map((p) => `  ${p.path}: ${p.message}`).join('\n');
    throw new StudyhookError(
      'SH_CONFIG_INVALID',
      `Invalid configuration${absPath ? ` in ${absPath}` : ''}:\n${list}`,
      { details: problems },
    );
  }
  // why: a valid document has every default of the schema filled in (validateConfig uses ajv's useDefaults).
  const d = doc as Pick<
    ResolvedConfig,
    'log' | 'spool' | 'workers' | 'admin' | 'blobs' | 'dedupTtlSeconds' | 'dataDir'
  > & { server: ResolvedConfig['server']; redis: Section<'redis'>; fileMode: string };
  return {
    server: { ...d.server, trustProxy },
    redis: resolveRedis(d.redis),
    blobs: d.blobs,
    log: d.log,
    dedupTtlSeconds: d.dedupTtlSeconds,
    spool: d.spool,
    workers: d.workers,
    admin: d.admin,
    dataDir: resolve(baseDir, d.dataDir),
    fileMode: parseInt(d.fileMode, 8),
    platforms,
    sinks,
    studies,
    path: absPath,
    envFile: dot?.file,
    secretValues,
  };
}

/** A path pattern (`*` for one segment) as a regular expression matching that path and everything under it. */
function pathPattern(pattern: string): RegExp {
  const body = pattern
    .split('/')
    .map((seg) => (seg === '*' ? '[^/]+' : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${body}(/|$)`);
}

/**
 * `redis.cluster` becomes a redis+cluster:// URL, so that every connection is made from one string.
 * why the prefix default differs: one hash tag puts every key in one slot, which on a cluster means one
 * node; without a tag each sink's queue gets its own (see sinkQueueName). One server keeps the
 * tagged prefix of earlier versions, so its keys do not move on an upgrade.
 */
function resolveRedis(r: NonNullable<StudyhookConfig['redis']>): ResolvedConfig['redis'] {
  const { cluster, ...rest } = r as WithDefaults<
    typeof r,
    'url' | 'waitReplicas' | 'waitTimeoutMs'
  >;
  const url = cluster ? clusterUrl(cluster) : rest.url;
  return { ...rest, url, prefix: rest.prefix ?? (isClusterUrl(url) ? 'studyhook' : '{studyhook}') };
}

function applyEnvOverrides(doc: StudyhookConfig, env: Env, problems: SchemaProblem[]): void {
  doc.server ??= {};
  doc.redis ??= {};
  doc.log ??= {};
  if (env['PORT']) {
    const port = Number(env['PORT']);
    if (Number.isInteger(port)) doc.server.port = port;
    else problems.push({ path: 'env PORT', message: `must be an integer, got '${env['PORT']}'` });
  }
  // why: the variable wins over the whole section, a cluster list included.
  if (env['REDIS_URL']) {
    doc.redis.url = env['REDIS_URL'];
    delete doc.redis.cluster;
  }
  if (env['STUDYHOOK_DATA_DIR']) doc.dataDir = env['STUDYHOOK_DATA_DIR'];
  if (env['LOG_LEVEL']) doc.log.level = env['LOG_LEVEL'] as 'info';
}

/**
 * `server.trustProxy` as a list of trusted proxy addresses. why: a hop count (or `true`) believes the
 * X-Forwarded-For of whoever connects, so with the port reachable directly any client could claim an
 * allow-listed address or a fresh rate-limit bucket (issue #22, item 4); it is refused with the fix.
 */
function resolveTrustProxy(value: unknown, problems: SchemaProblem[]): string[] {
  const path = '/server/trustProxy';
  if (value === undefined || value === false || value === 0 || value === '') return [];
  if (value === true || typeof value === 'number') {
    problems.push({
      path,
      message: `${String(value)} believes X-Forwarded-For from any client that reaches the port directly; list your reverse proxy's address instead, e.g. trustProxy: ["127.0.0.1"] for a proxy on the same host (docs/deployment.md, "Client addresses and trustProxy")`,
    });
    return [];
  }
  const list = (
    typeof value === 'string' ? value.split(',') : Array.isArray(value) ? value.map(String) : []
  )
    .map((v) => v.trim())
    .filter((v) => v !== '');
  try {
    proxyaddr.compile(list);
  } catch (err) {
    problems.push({
      path,
      message: `${(err as Error).message} (use addresses, CIDR subnets, or loopback, linklocal, uniquelocal)`,
    });
  }
  return list;
}

function resolvePlatforms(
  doc: StudyhookConfig,
  problems: SchemaProblem[],
): Record<string, ResolvedPlatform> {
  // why: no prototype, so that a lookup keyed by a request (`/sensorlogger/constructor`) only ever finds configured names.
  const out = Object.create(null) as Record<string, ResolvedPlatform>;
  const given = doc.platforms ?? {};
  for (const name of Object.keys(given)) {
    if (!adapters.some((a) => a.platform === name))
      problems.push({
        path: `/platforms/${name}`,
        message: `unknown platform (known: ${adapters.map((a) => a.platform).join(', ')})`,
      });
  }
  for (const adapter of adapters) {
    const p = own(given, adapter.platform);
    const namespaces = ownRecord(
      (p?.namespaces ?? adapter.defaultNamespaces ?? {}) as Record<string, Record<string, unknown>>,
    );
    for (const [ns, settings] of Object.entries(namespaces)) {
      if (ns !== '*' && !NAMESPACE_PATTERN.test(ns))
        problems.push({
          path: `/platforms/${adapter.platform}/namespaces/${ns}`,
          message: 'namespace names use letters, digits, _ and - (or * for any)',
        });
      const invalid = adapter.settingsSchema
        ? validateConfig(adapter.settingsSchema, settings)
        : [];
      for (const pr of invalid)
        problems.push({
          path: `/platforms/${adapter.platform}/namespaces/${ns}${pr.path === '/' ? '' : pr.path}`,
          message: pr.message,
        });
      if (invalid.length === 0)
        problems.push(
          ...originProblems(adapter, settings, `/platforms/${adapter.platform}/namespaces/${ns}`),
        );
    }
    out[adapter.platform] = {
      enabled: p?.enabled ?? true,
      namespaces,
      client: (p?.client ?? {}) as Record<string, unknown>,
    };
  }
  return out;
}

/** An allowed origin with a path (or none at all) matches no browser: refused at load, with the fix. */
function originProblems(adapter: Adapter, settings: unknown, path: string): SchemaProblem[] {
  return (adapter.allowedOrigins?.(settings) ?? []).flatMap((entry) => {
    const n = normaliseOrigin(entry);
    return 'problem' in n ? [{ path, message: `allowed origin ${n.problem}` }] : [];
  });
}

/**
 * The archive sink, unless the config has a filesystem sink or `archive: false`: added before
 * validation, so that the schema's defaults fill it like any other entry. why appended, not
 * prepended: error paths (/sinks/<i>) then name the user's own entries.
 */
function addArchive(doc: StudyhookConfig): void {
  const list = doc.sinks ?? [];
  if (!Array.isArray(list)) return; // the schema reports it
  if (doc.archive !== false && !list.some((s) => s?.use === 'filesystem'))
    doc.sinks = [...list, { name: 'archive', use: 'filesystem' }];
}

/** The sinks as validated (the schema's defaults filled in), module paths resolved against the config's folder. */
function resolveSinks(
  doc: StudyhookConfig,
  baseDir: string,
  problems: SchemaProblem[],
): ResolvedSink[] {
  // why: a valid document has the schema's defaults filled in; an invalid one is refused below anyway.
  const list = (doc.sinks ?? []) as ResolvedSink[];
  const seen = new Set<string>();
  return list.map((s, i) => {
    const path = `/sinks/${i}`;
    if (seen.has(s.name))
      problems.push({ path: `${path}/name`, message: `duplicate sink name '${s.name}'` });
    seen.add(s.name);
    if ((s.use === undefined) === (s.module === undefined))
      problems.push({
        path,
        message: 'give exactly one of `use` (a built-in sink) or `module` (your own)',
      });
    if (s.use !== undefined && !builtinSink(s.use))
      problems.push({
        path: `${path}/use`,
        message: `unknown built-in sink '${s.use}' (known: ${Object.keys(builtinSinks).join(', ')})`,
      });
    problems.push(...filterProblems(s.filter, `${path}/filter`));
    const module =
      s.module === undefined
        ? undefined
        : s.module.startsWith('.') || isAbsolute(s.module)
          ? resolve(baseDir, s.module)
          : s.module;
    return { ...s, ...(module !== undefined && { module }) };
  });
}
