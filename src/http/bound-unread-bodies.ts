import type { Server } from 'node:http';

/**
 * Closes a connection whose client is still sending a request body `ms` after that request was
 * answered (a refusal before the body was read, an ops route that reads none). node:http reads such a
 * body to its end to keep the connection; with its own `requestTimeout` off (uploads need no total
 * bound) nothing else would stop a client that drips it forever.
 */
export function boundUnreadBodies(server: Server, ms: number): void {
  server.on('request', (req, res) => {
    res.once('finish', () => {
      if (req.complete) return;
      const timer = setTimeout(() => { if (!req.complete) req.socket.destroy(); }, ms);
      req.once('end', () => clearTimeout(timer));
      req.socket.once('close', () => clearTimeout(timer));
    });
  });
}
