import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import request from 'supertest';
import { sinkQueueName } from '../src/queue/redis.js';
import { readDeliveries, readJsonLines } from './fixtures/sinks/recording-sink.js';
import {
  fixtures,
  REDIS_URL,
  recordingSink,
  startGateway,
  waitFor,
  type TestGateway,
} from './helpers/gateway.js';
import { queueState, settled } from './helpers/queue-state.js';

const contextSink = join(fixtures, 'sinks', 'context-sink.ts');

const upload = (n: number) => ({ studyId: 'study-1', uploadId: `upload-${n}`, secretCode: 'code' });

describe('sink runtime: retries, dead letters, isolation', () => {
  let t: TestGateway | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('retries a sink that fails twice, then delivers the event once', async () => {
    let file = '';
    t = await startGateway((dir) => {
      file = join(dir, 'flaky.jsonl');
      return {
        archive: false,
        sinks: [
          {
            name: 'flaky',
            module: recordingSink,
            options: { file, failTimes: 2 },
            attempts: 5,
            backoff: { type: 'fixed', delayMs: 50 },
          },
        ],
      };
    });
    await request(t.gateway.app!).post('/sensorlogger/s').send(upload(1)).expect(200);
    const [d] = await waitFor('delivery after retries', () => {
      const all = readDeliveries(file);
      return all.length > 0 && all;
    });
    assert.equal(d!.attempt, 3);
    assert.deepEqual(await settled(t, 'flaky'), { jobs: 1, pending: 0, completed: 1, failed: 0 });
    assert.equal(readDeliveries(file).length, 1);
  });

  it('leaves a dead letter with its error when a sink always fails', async () => {
    t = await startGateway((dir) => ({
      archive: false,
      sinks: [
        {
          name: 'broken',
          module: recordingSink,
          options: { file: join(dir, 'x.jsonl'), alwaysFail: true },
          attempts: 3,
          backoff: { type: 'fixed', delayMs: 20 },
        },
      ],
    }));
    const res = await request(t.gateway.app!).post('/sensorlogger/s').send(upload(2)).expect(200);
    const queue = new Queue(sinkQueueName('broken'), {
      connection: { url: REDIS_URL } as never,
      prefix: t.prefix,
    });
    try {
      const [failed] = await waitFor('a dead letter', async () => {
        const f = await queue.getFailed();
        return f.length > 0 && f;
      });
      assert.equal(failed!.attemptsMade, 3);
      assert.match(failed!.failedReason, /failing attempt 3/);
      assert.equal(failed!.data.event.id, res.body.id);
    } finally {
      await queue.close();
    }
  });

  it('gives up at once on a PermanentError', async () => {
    t = await startGateway((dir) => ({
      archive: false,
      sinks: [
        {
          name: 'refuses',
          module: recordingSink,
          options: { file: join(dir, 'x.jsonl'), alwaysFail: true, permanent: true },
          attempts: 5,
        },
      ],
    }));
    await request(t.gateway.app!).post('/sensorlogger/s').send(upload(3)).expect(200);
    const queue = new Queue(sinkQueueName('refuses'), {
      connection: { url: REDIS_URL } as never,
      prefix: t.prefix,
    });
    try {
      const [failed] = await waitFor('a dead letter', async () => {
        const f = await queue.getFailed();
        return f.length > 0 && f;
      });
      assert.equal(failed!.attemptsMade, 1);
    } finally {
      await queue.close();
    }
  });

  it('does not let a slow sink delay another sink', async () => {
    let fast = '';
    let slow = '';
    let release = '';
    t = await startGateway((dir) => {
      fast = join(dir, 'fast.jsonl');
      slow = join(dir, 'slow.jsonl');
      release = join(dir, 'release-slow');
      return {
        archive: false,
        sinks: [
          // why: it holds its first delivery until the test releases it, however long the fast sink takes.
          {
            name: 'slow',
            module: recordingSink,
            options: { file: slow, holdUntil: release },
            concurrency: 1,
          },
          { name: 'fast', module: recordingSink, options: { file: fast } },
        ],
      };
    });
    for (let i = 0; i < 5; i += 1)
      await request(t.gateway.app!)
        .post('/sensorlogger/s')
        .send(upload(10 + i))
        .expect(200);
    assert.equal((await settled(t, 'fast')).completed, 5);
    assert.equal(readDeliveries(fast).length, 5);
    assert.equal(
      readDeliveries(slow).length,
      0,
      'the slow sink is still busy with its first event',
    );
    assert.equal((await queueState(t, 'slow')).pending, 5);
    await writeFile(release, '');
    assert.equal((await settled(t, 'slow')).completed, 5);
  });

  it('gives each delivery every field of the context its sink was set up with', async () => {
    let file = '';
    t = await startGateway((dir) => {
      file = join(dir, 'context.jsonl');
      return {
        archive: false,
        sinks: [{ name: 'context', module: contextSink, options: { file } }],
      };
    });
    await request(t.gateway.app!).post('/sensorlogger/s').send(upload(1)).expect(200);
    const [line] = await waitFor('a delivery', () => {
      const lines = readJsonLines<Record<string, unknown>>(file);
      return lines.length > 0 && lines;
    });
    assert.deepEqual(line, {
      id: line!['id'],
      fields: ['blobs', 'dataDir', 'fileMode', 'clients', 'name', 'logger', 'createBatcher'],
      missing: [],
      differ: [],
      attempt: 1,
    });
  });

  it('delivers only events that match a sink filter', async () => {
    let all = '';
    let none = '';
    t = await startGateway((dir) => {
      all = join(dir, 'all.jsonl');
      none = join(dir, 'none.jsonl');
      return {
        archive: false,
        sinks: [
          {
            name: 'uploads',
            module: recordingSink,
            options: { file: all },
            filter: { types: ['sensorlogger.*'], namespaces: ['s'] },
          },
          {
            name: 'trials',
            module: recordingSink,
            options: { file: none },
            filter: { types: ['labvanced.*'] },
          },
        ],
      };
    });
    await request(t.gateway.app!).post('/sensorlogger/s').send(upload(20)).expect(200);
    await request(t.gateway.app!).post('/sensorlogger/other').send(upload(21)).expect(200);
    assert.equal(
      (await queueState(t, 'uploads')).jobs,
      1,
      'only the event of namespace s has a job',
    );
    assert.equal((await queueState(t, 'trials')).jobs, 0);
    await settled(t, 'uploads');
    assert.equal(readDeliveries(all).length, 1);
    assert.equal(readDeliveries(none).length, 0);
  });
});
