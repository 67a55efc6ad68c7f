import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import type { Logger } from '../log/logger.js';

/**
 * `handler` with two guards on every request, whatever route answers it:
 * - an 'error' on a response (a write after its end, say) is logged and its connection closed,
 *   never left without a listener, where it would end the process;
 * - a connection whose client is still sending a request body `unreadBodyMs` after that request
 *   was answered (a refusal before the body was read, an ops route that reads none) is closed.
 *   node:http reads such a body to its end to keep the connection; with its own `requestTimeout`
 *   off (uploads need no total bound) nothing else would stop a client that drips it forever.
 */
export function guardRequests(
  handler: RequestListener,
  unreadBodyMs: number,
  logger: Pick<Logger, 'warn'>,
): RequestListener {
  // why: listeners made once, reading the response from `this`, and the handler wrapped rather than a
  // second 'request' listener: per request that saves the closures and emit's copy of its listener list.
  function onError(this: ServerResponse, err: Error): void {
    logger.warn({ err, method: this.req.method }, 'response failed; closing its connection');
    this.req.socket.destroy();
  }
  function onFinish(this: ServerResponse): void {
    const req = this.req;
    if (req.complete) return;
    const timer = setTimeout(() => {
      if (!req.complete) req.socket.destroy();
    }, unreadBodyMs);
    req.once('end', () => clearTimeout(timer));
    req.socket.once('close', () => clearTimeout(timer));
  }
  return (req: IncomingMessage, res: ServerResponse) => {
    res.on('error', onError);
    res.on('finish', onFinish);
    handler(req, res);
  };
}
