// Skeleton B: node:http + ajv + queue.add(), reply 200 — the floor of the architecture.
import { createServer } from 'node:http';
import { Queue } from 'bullmq';
import { connection, port, redis, validate } from './skeleton-schema.js';

const queue = new Queue('skeleton-b', { connection: connection(), prefix: redis.prefix });
createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400).end();
      return;
    }
    if (!validate(body)) {
      res.writeHead(422).end();
      return;
    }
    queue.add('event', body, { removeOnComplete: true }).then(
      (job) => {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ status: 'accepted', id: job.id }));
      },
      () => res.writeHead(503).end(),
    );
  });
}).listen(port, '127.0.0.1', () => process.send?.('ready'));
process.on('SIGTERM', () => {
  void queue.close().finally(() => process.exit(0));
});
