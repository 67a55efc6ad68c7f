import type { Server } from 'node:http';
import type { Logger } from '../log/logger.js';

/**
 * Two guards on every request of `server`, whatever route answers it:
 * - an 'error' on a response (a write after its end, say) is logged and its connection closed,
 *   never left without a listener, where it would end the process;
 * - a connection whose client is still sending a request body `unreadBodyMs` after that request
 *   was answered (a refusal before the body was read, an ops route that reads none) is closed.
 *   node:http reads such a body to its end to keep the connection; with its own `requestTimeout`
 *   off (uploads need no total bound) nothing else would stop a client that drips it forever.
 */
export function guardRequests(server: Server, unreadBodyMs: number, logger: Pick<Logger, 'warn'>): void {
  server.on('request', (req, res) => {
    res.on('error', (err) => {
      logger.warn({ err, method: req.method }, 'response failed; closing its connection');
      req.socket.destroy();
    });
    res.once('finish', () => {
      if (req.complete) return;
      const timer = setTimeout(() => { if (!req.complete) req.socket.destroy(); }, unreadBodyMs);
      req.once('end', () => clearTimeout(timer));
      req.socket.once('close', () => clearTimeout(timer));
    });
  });
}
