import { StudyhookError } from '../errors.js';

/** One node of a cluster. */
export interface RedisNode {
  host: string;
  port: number;
}

/** A Redis Cluster given by seed nodes; the credentials and TLS apply to every node. */
export interface ClusterTarget {
  nodes: RedisNode[];
  username?: string;
  password?: string;
  tls: boolean;
}

/** A Redis primary found through Sentinel: the sentinels' addresses and the name they monitor it by. */
export interface SentinelTarget extends ClusterTarget {
  name: string;
}

// why the last '@': a password may hold '@' or '/' left unencoded; the hosts never do.
const CLUSTER = /^(rediss?)\+cluster:\/\/(?:(.*)@)?([^@/?#]+)\/?$/;
const SENTINEL = /^(rediss?)\+sentinel:\/\/(?:(.*)@)?([^@/?#]+)\/([^@/?#]+)\/?$/;

/** The URL with its credentials (everything up to the last '@') masked, for logs and messages. */
export function maskRedisUrl(url: string): string {
  return url.replace(/\/\/.*@/, '//****@');
}

/** True for a redis+cluster:// (or rediss+cluster://) URL. */
export function isClusterUrl(url: string): boolean {
  return /^rediss?\+cluster:\/\//.test(url);
}

/** True for a redis+sentinel:// (or rediss+sentinel://) URL. */
export function isSentinelUrl(url: string): boolean {
  return /^rediss?\+sentinel:\/\//.test(url);
}

/**
 * The nodes of a redis+cluster:// URL: `redis+cluster://[user:password@]host:port,host:port`.
 * why not `new URL`: a list of hosts is not a URL host, and WHATWG parsing refuses it.
 */
export function parseClusterUrl(url: string): ClusterTarget {
  const m = CLUSTER.exec(url);
  if (!m)
    throw new StudyhookError(
      'SH_CONFIG_INVALID',
      `Not a cluster URL: ${maskRedisUrl(url)} (expected redis+cluster://host:port,host:port)`,
    );
  return target(m[1]!, m[2], m[3]!, 6379);
}

/**
 * The sentinels and primary name of a redis+sentinel:// URL:
 * `redis+sentinel://[user:password@]host:port,host:port/<name>`. The user and password are the
 * primary's (and its replicas'); the sentinels are asked without them.
 */
export function parseSentinelUrl(url: string): SentinelTarget {
  const m = SENTINEL.exec(url);
  if (!m)
    throw new StudyhookError(
      'SH_CONFIG_INVALID',
      `Not a Sentinel URL: ${maskRedisUrl(url)} (expected redis+sentinel://host:port,host:port/<primary name>)`,
    );
  return { ...target(m[1]!, m[2], m[3]!, 26379), name: decodeURIComponent(m[4]!) };
}

/** The nodes, credentials and TLS of a URL's parts; a node without a port has `port`. */
function target(
  scheme: string,
  auth: string | undefined,
  hosts: string,
  port: number,
): ClusterTarget {
  const nodes = hosts.split(',').map((h) => {
    const hm = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(h.trim());
    if (!hm) throw new StudyhookError('SH_CONFIG_INVALID', `Bad node '${h}' in the Redis URL`);
    return { host: hm[1]!, port: Number(hm[2] ?? port) };
  });
  const out: ClusterTarget = { nodes, tls: scheme === 'rediss' };
  if (auth) {
    const i = auth.indexOf(':');
    const user = decode(i < 0 ? auth : auth.slice(0, i));
    if (user) out.username = user;
    if (i >= 0) out.password = decode(auth.slice(i + 1));
  }
  return out;
}

/** A percent-decoded user name or password; a bare '%' is a config error that does not show the value. */
function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new StudyhookError(
      'SH_CONFIG_INVALID',
      "The user name or password of the Redis URL is not percent-encoded (write '%' as %25)",
    );
  }
}

/** The redis+cluster:// URL of `redis.cluster`'s seed URLs (credentials and scheme of the first). */
export function clusterUrl(seeds: readonly string[]): string {
  const first = new URL(seeds[0]!);
  const auth =
    first.username || first.password
      ? `${first.username}${first.password ? `:${first.password}` : ''}@`
      : '';
  const hosts = seeds.map((s) => {
    const u = new URL(s);
    return `${u.hostname}:${u.port || 6379}`;
  });
  return `${first.protocol.replace(':', '')}+cluster://${auth}${hosts.join(',')}`;
}
