import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

/**
 * The client's address under the `server.trustProxy` setting, with express's meaning of that
 * setting (true, a hop count, or a comma-separated list of trusted addresses or subnets), so that
 * the platform routes, which do not run through express, see the same address as the ops routes.
 */
export function createClientIp(trust: boolean | number | string): (req: IncomingMessage) => string {
  const fn: (addr: string, i: number) => boolean = trust === true ? () => true
    : typeof trust === 'number' ? (_a, i) => i < trust
      : proxyaddr.compile(typeof trust === 'string' ? trust.split(',').map((v) => v.trim()) : []);
  // why: with nothing trusted, proxy-addr would only return the socket address; skip its header parsing.
  if (trust === false || trust === 0 || trust === '') return (req) => req.socket.remoteAddress ?? '';
  return (req) => proxyaddr(req, fn);
}
