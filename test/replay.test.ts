import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import request from 'supertest';
import { stringify } from 'yaml';
import { replay } from '../src/commands/replay.js';
import { loadConfig } from '../src/config/load-config.js';
import { createGateway, type Gateway } from '../src/gateway.js';
import { createLogger } from '../src/log/logger.js';
import { sinkQueueName } from '../src/queue/redis.js';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { testPrefix, REDIS_URL, recordingSink, waitFor } from './helpers/gateway.js';
import { queueState, settled } from './helpers/queue-state.js';

const upload = (n: number) => ({ studyId: 'study-1', uploadId: `replay-${n}`, secretCode: 'code' });

/** One deployment (data dir + queue prefix) whose gateway is restarted with a changed config, as an operator would. */
describe('studyhook replay', () => {
  let dir = '';
  let prefix = '';
  let gw: Gateway | undefined;
  const file = () => join(dir, 'studyhook.yml');
  const quiet = createLogger({ level: 'silent', secretValues: new Set() });

  async function restart(extra: Record<string, unknown>): Promise<Gateway> {
    await gw?.close();
    await writeFile(
      file(),
      stringify({ dataDir: dir, redis: { url: REDIS_URL, prefix }, ...extra }),
    );
    gw = await createGateway({
      config: loadConfig({ path: file(), env: {} }),
      roles: { api: true, worker: true },
      logger: quiet,
      stalledIntervalMs: 1000,
    });
    return gw;
  }
  const log = console.log;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'studyhook-replay-'));
    prefix = testPrefix('replay');
    console.log = () => undefined;
  });
  afterEach(async () => {
    console.log = log;
    await gw?.close();
    gw = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('re-delivers dead letters once the sink is fixed: by id, then all, each event once', async () => {
    const out = join(dir, 'flaky.jsonl');
    const sink = (alwaysFail: boolean) => ({
      archive: false,
      sinks: [
        {
          name: 'flaky',
          module: recordingSink,
          options: { file: out, alwaysFail },
          attempts: 2,
          backoff: { type: 'fixed', delayMs: 20 },
        },
      ],
    });
    let g = await restart(sink(true));
    const ids: string[] = [];
    for (let i = 1; i <= 3; i += 1)
      ids.push(
        (await request(g.app!).post('/sensorlogger/lab').send(upload(i)).expect(200)).body.id,
      );
    const queue = new Queue(sinkQueueName('flaky'), {
      connection: { url: REDIS_URL } as never,
      prefix,
    });
    try {
      await waitFor('three dead letters', async () => (await queue.getFailedCount()) === 3);
      g = await restart(sink(false));
      assert.equal(await replay.run(['--config', file(), '--sink', 'flaky', '--id', ids[1]!]), 0);
      await waitFor('the chosen event', () => readDeliveries(out).length === 1);
      assert.equal(readDeliveries(out)[0]!.event.id, ids[1]);
      assert.equal(await queue.getFailedCount(), 2);
      assert.equal(await replay.run(['--config', file()]), 0);
      assert.equal(
        (await settled({ prefix }, 'flaky')).jobs,
        3,
        'replaying re-queues the dead letters, it adds no jobs',
      );
      assert.deepEqual(
        readDeliveries(out)
          .map((d) => d.event.id)
          .sort(),
        [...ids].sort(),
      );
      assert.equal(await queue.getFailedCount(), 0);
    } finally {
      await queue.close();
    }
  });

  it('fills a newly added sink from the archive, and skips what a sink already has', async () => {
    const first = join(dir, 'first.jsonl');
    const late = join(dir, 'late.jsonl');
    const firstSink = { name: 'first', module: recordingSink, options: { file: first } };
    const g = await restart({ sinks: [firstSink] });
    for (let i = 1; i <= 3; i += 1)
      await request(g.app!).post('/sensorlogger/lab').send(upload(i)).expect(200);
    await waitFor('live deliveries', () => readDeliveries(first).length === 3);
    await restart({
      sinks: [firstSink, { name: 'late', module: recordingSink, options: { file: late } }],
    });
    const day = new Date().toISOString().slice(0, 10);
    await waitFor('three archived events', () =>
      readFile(join(dir, 'events', 'sensorlogger', 'lab', `${day}.jsonl`), 'utf8').then(
        (t) => t.trim().split('\n').length === 3,
        () => false,
      ),
    );
    assert.equal(
      await replay.run([
        '--config',
        file(),
        '--from-archive',
        '--sink',
        'late',
        '--since',
        '2999-01-01',
      ]),
      0,
    );
    assert.equal(
      (await queueState({ prefix }, 'late')).jobs,
      0,
      '--since in the future selects nothing',
    );
    assert.equal(await replay.run(['--config', file(), '--from-archive', '--sink', 'late']), 0);
    await waitFor('the late sink filled', () => readDeliveries(late).length === 3);
    assert.equal(await replay.run(['--config', file(), '--from-archive', '--sink', 'late']), 0);
    assert.equal(await replay.run(['--config', file(), '--from-archive', '--sink', 'first']), 0);
    assert.equal((await queueState({ prefix }, 'late')).jobs, 3, 'a second replay adds nothing');
    assert.equal(
      (await queueState({ prefix }, 'first')).jobs,
      3,
      'a sink that already had the events gets no job',
    );
    await settled({ prefix }, 'late');
    await settled({ prefix }, 'first');
    assert.equal(readDeliveries(late).length, 3);
    assert.equal(
      readDeliveries(first).length,
      3,
      'a sink that already had the events gets none again',
    );
    assert.equal(
      readDeliveries(late)[0]!.event.subject,
      readDeliveries(first).find((d) => d.event.id === readDeliveries(late)[0]!.event.id)!.event
        .subject,
    );
  });

  it('refuses --from-archive without --sink, and an unknown sink, naming the sinks', async () => {
    await writeFile(file(), stringify({ dataDir: dir, redis: { url: REDIS_URL, prefix } }));
    await assert.rejects(replay.run(['--config', file(), '--from-archive']), /needs --sink NAME/);
    await assert.rejects(
      replay.run(['--config', file(), '--sink', 'nope']),
      /no sink named 'nope' in the config \(sinks: archive\)/,
    );
  });
});
