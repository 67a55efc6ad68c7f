import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import request from 'supertest';
import { jobIdOf } from '../src/event/build-event.js';
import { sinkQueueName } from '../src/queue/redis.js';
import { recordingSink, REDIS_URL, startGateway } from './helpers/gateway.js';

const PG_URL = process.env['PG_URL'] ?? 'postgres://postgres@127.0.0.1:5432/test';

describe('secrets in queued jobs', () => {
  it('queues jobs without ctx.secrets for the built-in sinks that never read them and sinks configured so, with them for the others', async () => {
    const t = await startGateway(
      (d) => ({
        sinks: [
          { name: 'rec', module: recordingSink, options: { file: `${d}/rec.jsonl` } },
          {
            name: 'plain',
            module: recordingSink,
            options: { file: `${d}/p.jsonl` },
            secrets: false,
          },
          { name: 'db', use: 'postgres', options: { connectionString: PG_URL } },
        ],
        archive: true,
      }),
      { roles: { api: true, worker: false } },
    );
    const queue = (name: string): Queue =>
      new Queue(sinkQueueName(name), { connection: { url: REDIS_URL }, prefix: t.prefix });
    const queues = ['rec', 'archive', 'db', 'plain'].map(queue);
    try {
      const id = (
        await request(t.gateway.app!)
          .post('/sensorlogger/x')
          .send({ studyId: 's', uploadId: 'u-1', secretCode: 'code-1234' })
          .expect(200)
      ).body.id as string;
      const [rec, archive, db, plain] = await Promise.all(queues.map((q) => q.getJob(jobIdOf(id))));
      assert.deepEqual(rec!.data.secrets, { secretCode: 'code-1234' }, 'a module sink gets them');
      assert.equal(archive!.data.event.id, id);
      assert.equal(archive!.data.secrets, undefined, 'the archive (filesystem) never reads them');
      assert.equal(db!.data.secrets, undefined, 'the postgres sink never reads them');
      assert.equal(plain!.data.secrets, undefined, 'a module sink configured with secrets: false');
    } finally {
      await Promise.all(queues.map((q) => q.close()));
      await t.close();
    }
  });
});
