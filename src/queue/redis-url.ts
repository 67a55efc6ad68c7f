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

const CLUSTER = /^(rediss?)\+cluster:\/\/(?:([^@/]*)@)?([^/?#]+)\/?$/;

/** True for a redis+cluster:// (or rediss+cluster://) URL. */
export function isClusterUrl(url: string): boolean {
  return /^rediss?\+cluster:\/\//.test(url);
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
      `Not a cluster URL: ${url.replace(/\/\/([^@/]*)@/, '//****@')} (expected redis+cluster://host:port,host:port)`,
    );
  const [, scheme, auth, hosts] = m;
  const nodes = hosts!.split(',').map((h) => {
    const hm = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(h.trim());
    if (!hm)
      throw new StudyhookError('SH_CONFIG_INVALID', `Bad cluster node '${h}' in the Redis URL`);
    return { host: hm[1]!, port: Number(hm[2] ?? 6379) };
  });
  const target: ClusterTarget = { nodes, tls: scheme === 'rediss' };
  if (auth) {
    const i = auth.indexOf(':');
    const user = decodeURIComponent(i < 0 ? auth : auth.slice(0, i));
    if (user) target.username = user;
    if (i >= 0) target.password = decodeURIComponent(auth.slice(i + 1));
  }
  return target;
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
