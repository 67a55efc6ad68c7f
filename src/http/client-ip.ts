import type { IncomingMessage } from 'node:http';
import proxyaddr from 'proxy-addr';

/**
 * The client's address: the socket's, or, when the socket is one of the trusted proxies
 * (`server.trustProxy`: addresses, subnets, or proxy-addr's names), the last address in
 * X-Forwarded-For not itself a trusted proxy. Same rule as express's `trust proxy` with that list,
 * so the platform routes (which skip express) and the ops routes see the same address.
 */
export function createClientIp(trust: readonly string[]): (req: IncomingMessage) => string {
  // why: with nothing trusted, forwarding headers are not even parsed: a direct client cannot choose its address.
  if (trust.length === 0) return (req) => req.socket.remoteAddress ?? '';
  const trusted = proxyaddr.compile([...trust]);
  return (req) => proxyaddr(req, trusted);
}
