import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import request from 'supertest';
import { cliContext } from '../src/commands/index.js';
import { replay } from '../src/commands/replay.js';
import { jobIdOf } from '../src/event/build-event.js';
import { sinkQueueName } from '../src/queue/redis.js';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { stringify } from 'yaml';
import { loadConfig } from '../src/config/load-config.js';
import { createGateway } from '../src/gateway.js';
import { createLogger } from '../src/log/logger.js';
import { REDIS_URL, recordingSink, startGateway, testPrefix, waitFor } from './helpers/gateway.js';
import { spawnStudyhook, stop, type Studyhook } from './helpers/processes.js';
import { queueState, settled } from './helpers/queue-state.js';
import { runCli } from './helpers/run-cli.js';

/** A gateway whose sink fails each event's first attempt, with one attempt: every event becomes a dead letter once. */
async function deadLetters(n: number) {
  let out = '';
  const t = await startGateway((dir) => {
    out = join(dir, 'rec.jsonl');
    return {
      archive: false,
      sinks: [
        { name: 'rec', module: recordingSink, options: { file: out, failTimes: 1 }, attempts: 1 },
      ],
    };
  });
  const ids: string[] = [];
  for (let i = 0; i < n; i += 1)
    ids.push(
      (
        await request(t.gateway.app!)
          .post('/sensorlogger/lab')
          .send({ studyId: 's', uploadId: `dl-${i}`, secretCode: 'code' })
          .expect(200)
      ).body.id as string,
    );
  await waitFor(`${n} dead letters`, async () => (await queueState(t, 'rec')).failed === n);
  return { t, ids, out, config: join(t.dataDir, 'studyhook.yml') };
}

describe('studyhook replay of dead letters, adversarial', () => {
  it('re-queues the readable dead letters when one was hand-edited into unreadable data, and names it', async () => {
    const { t, ids, out, config } = await deadLetters(4);
    const redis = new Redis(REDIS_URL);
    try {
      const bad = `${t.prefix}:${sinkQueueName('rec')}:${jobIdOf(ids[1]!)}`;
      await redis.hset(bad, 'data', '{"event": truncated');
      const r = await runCli(replay, ['--config', config]);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /3 dead letter\(s\) re-queued/);
      assert.match(r.err, new RegExp(`${jobIdOf(ids[1]!)}.*unreadable`));
      await waitFor('the three readable ones delivered', () => readDeliveries(out).length === 3);
      assert.equal((await settled(t, 'rec')).failed, 1, 'the unreadable one stays a dead letter');
      assert.deepEqual(
        readDeliveries(out)
          .map((d) => d.event.id)
          .sort(),
        [ids[0], ids[2], ids[3]].sort(),
      );
    } finally {
      redis.disconnect();
      await t.close();
    }
  });

  it('run twice at once: both succeed, every dead letter delivered exactly once', async () => {
    const { t, ids, out, config } = await deadLetters(30);
    try {
      // why not runCli: two of them at once would each restore the other's console patch.
      const { log, error } = console;
      const said: string[] = [];
      console.log = console.error = (...m: unknown[]) => void said.push(m.join(' '));
      let codes: number[];
      try {
        codes = await Promise.all([
          replay.run(['--config', config], cliContext),
          replay.run(['--config', config], cliContext),
        ]);
      } finally {
        Object.assign(console, { log, error });
      }
      assert.deepEqual(codes, [0, 0], said.join('\n'));
      await settled(t, 'rec');
      const delivered = readDeliveries(out).map((d) => d.event.id);
      console.log(
        `      concurrent replays: ${said.join(' | ')}; delivered ${delivered.length} of ${ids.length}`,
      );
      assert.deepEqual([...delivered].sort(), [...ids].sort());
    } finally {
      await t.close();
    }
  });

  it('gives a dead letter that stalled out its stalls again: one more crash after the replay is taken up again', async function () {
    this.timeout(120000);
    const dir = await mkdtemp(join(tmpdir(), 'studyhook-stalls-'));
    const prefix = testPrefix('stalls');
    const out = join(dir, 'rec.jsonl');
    const started = join(dir, 'started');
    const hold = join(dir, 'hold');
    const file = join(dir, 'studyhook.yml');
    await writeFile(
      file,
      stringify({
        dataDir: dir,
        archive: false,
        redis: { url: REDIS_URL, prefix },
        log: { level: 'warn' },
        workers: { stalledIntervalMs: 300, lockDurationMs: 3000, maxStalls: 1 },
        sinks: [
          {
            name: 'rec',
            module: recordingSink,
            options: { file: out, startedFile: started, holdUntil: hold },
            attempts: 1,
            concurrency: 1,
          },
        ],
      }),
    );
    const api = await createGateway({
      config: loadConfig({ path: file, env: {} }),
      roles: { api: true, worker: false },
      logger: createLogger({ level: 'silent' }),
    });
    const workers: Studyhook[] = [];
    const starts = (): number => {
      try {
        return readFileSync(started, 'utf8').split('\n').filter(Boolean).length;
      } catch {
        return 0;
      }
    };
    /** A worker process killed (as by the out-of-memory killer) once it has started delivery number `n`. */
    const crashAt = async (n: number): Promise<void> => {
      const w = spawnStudyhook('worker', file);
      workers.push(w);
      await waitFor(`delivery ${n} started`, () => starts() >= n, 30000);
      await stop(w.proc, 'SIGKILL');
    };
    try {
      const id = (
        await request(api.app!)
          .post('/sensorlogger/lab')
          .send({ studyId: 's', uploadId: 'oom', secretCode: 'code' })
          .expect(200)
      ).body.id as string;
      // maxStalls 1: two crashes, and the next worker makes it a dead letter.
      await crashAt(1);
      await crashAt(2);
      workers.push(spawnStudyhook('worker', file));
      await waitFor(
        'a dead letter',
        async () => (await queueState({ prefix }, 'rec')).failed === 1,
        30000,
      );
      // The sink is fixed; the operator replays; a deploy kills the worker once more mid-delivery.
      assert.equal((await runCli(replay, ['--config', file])).code, 0);
      await waitFor('delivery 3 started', () => starts() >= 3, 30000);
      await stop(workers.at(-1)!.proc, 'SIGKILL');
      writeFileSync(hold, '');
      workers.push(spawnStudyhook('worker', file));
      const end = await settled({ prefix }, 'rec', 30000);
      console.log(
        `      after the replay and one crash: completed ${end.completed}, dead letters ${end.failed}, deliveries started ${starts()}`,
      );
      assert.deepEqual(
        readDeliveries(out).map((d) => d.event.id),
        [id],
        'delivered once, not a dead letter again at its first stall',
      );
    } finally {
      for (const w of workers) await stop(w.proc, 'SIGKILL');
      await api.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
