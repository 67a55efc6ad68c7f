import { createServer, request, type IncomingMessage } from 'node:http';

/** An S3 error a proxy answers with instead of passing the request on. */
export interface S3Refusal {
  status: number;
  code: string;
}

/**
 * What else a proxy may do with a request: `hang` reads it and never answers; `lose` passes it on
 * and, once the server has answered, resets the connection (the request took effect, its answer is
 * lost); `hold` reads it whole and passes it on once `until` resolves (a store slow to take it);
 * `stall` passes it on and forwards the answer's headers and first bytes, then nothing more.
 */
export type S3Fault = 'hang' | 'lose' | 'stall' | { hold: Promise<void> };

/**
 * A real HTTP proxy on loopback in front of an S3-protocol server: each request `refuse` returns a
 * refusal for is answered with that S3 error, every other one is passed on. A store with
 * credentials that lack a permission, or one that fails some requests, seen from the client.
 */
export async function s3Proxy(
  upstream: string,
  refuse: (req: IncomingMessage) => S3Refusal | S3Fault | undefined,
): Promise<{ endpoint: string; close(): Promise<void> }> {
  const target = new URL(upstream);
  const proxy = createServer((req, res) => {
    const no = refuse(req);
    const pass = (body?: Buffer): void => {
      const up = request(
        {
          host: target.hostname,
          port: target.port,
          method: req.method,
          path: req.url,
          headers: req.headers,
        },
        (r) => {
          if (no === 'lose') {
            r.resume();
            r.on('end', () => res.socket?.destroy());
            return;
          }
          if (no === 'stall') {
            res.writeHead(r.statusCode ?? 502, r.headers);
            r.once('data', (c: Buffer) => {
              res.write(c.subarray(0, 1024));
              r.destroy();
            });
            return;
          }
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      if (body) up.end(body);
      else req.pipe(up);
    };
    if (no === 'hang') {
      req.resume();
      return;
    }
    if (no && typeof no === 'object' && 'hold' in no) {
      const body: Buffer[] = [];
      req.on('data', (c: Buffer) => body.push(c));
      req.on('end', () => void no.hold.then(() => pass(Buffer.concat(body))));
      return;
    }
    if (no && no !== 'lose' && no !== 'stall') {
      req.resume();
      res.writeHead(no.status, { 'content-type': 'application/xml' });
      res.end(`<Error><Code>${no.code}</Code><Message>${no.code}</Message></Error>`);
      return;
    }
    pass();
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const address = proxy.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((r) => {
        // why: a hung request's connection would keep close() waiting forever.
        proxy.closeAllConnections();
        proxy.close(() => r());
      }),
  };
}
