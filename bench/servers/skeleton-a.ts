// Skeleton A: express + express.json() + ajv + await queue.add() (BullMQ), reply 200.
import { Queue } from 'bullmq';
import express from 'express';
import { connection, port, redis, validate } from './skeleton-schema.js';

const queue = new Queue('skeleton-a', { connection: connection(), prefix: redis.prefix });
const app = express();
app.post('/sensorlogger/:ns', express.json(), async (req, res) => {
  if (!validate(req.body)) {
    res.status(422).json({ error: 'invalid' });
    return;
  }
  const job = await queue.add('event', req.body, { removeOnComplete: true });
  res.status(200).json({ status: 'accepted', id: job.id });
});
app.listen(port, '127.0.0.1', () => process.send?.('ready'));
process.on('SIGTERM', () => {
  void queue.close().finally(() => process.exit(0));
});
