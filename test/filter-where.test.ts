import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { stringify } from 'yaml';
import { loadConfig } from '../src/config/load-config.js';
import type { StudyhookEvent } from '../src/generated/event.js';
import { compileFilter } from '../src/event/filter.js';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { recordingSink, startGateway, type TestGateway } from './helpers/gateway.js';
import { queueState, settled } from './helpers/queue-state.js';

const event = (data: unknown, extra: Partial<StudyhookEvent> = {}) =>
  ({
    specversion: '1.0',
    id: 'x',
    source: '/prolific/lab',
    type: 'prolific.submission.status.change',
    time: '2026-01-01T00:00:00Z',
    platform: 'prolific',
    namespace: 'lab',
    receivedat: '2026-01-01T00:00:00Z',
    data,
    ...extra,
  }) as StudyhookEvent;

describe('sink filter: where conditions', () => {
  it('matches ==, !=, in, not in, exists and not exists on dotted paths', () => {
    const f = (...where: string[]) => compileFilter({ where });
    const approved = event({ status: 'APPROVED', n: 3, tags: ['a'] }, { participantid: 'p1' });
    assert.equal(f('data.status == "APPROVED"')(approved), true);
    assert.equal(f('data.status == "REJECTED"')(approved), false);
    assert.equal(f('platform != "prolific"')(approved), false);
    assert.equal(f('data.n == 3', 'data.n != "3"')(approved), true);
    assert.equal(f('data.status in ["APPROVED", "RETURNED"]')(approved), true);
    assert.equal(f('data.status not in ["APPROVED"]')(approved), false);
    assert.equal(f('participantid exists', 'data.reason not exists')(approved), true);
    assert.equal(f('data.missing.deeper == "x"')(approved), false);
    assert.equal(f('data.tags == ["a"]')(approved), true);
  });

  it('rejects a malformed condition at config load, with its path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'studyhook-where-'));
    const file = join(dir, 'studyhook.yml');
    await writeFile(
      file,
      stringify({
        sinks: [
          {
            name: 'a',
            use: 'filesystem',
            filter: {
              where: ['data.status == "OK"', 'data.status = APPROVED', 'data.status == APPROVED'],
            },
          },
        ],
      }),
    );
    try {
      assert.throws(
        () => loadConfig({ path: file, env: {} }),
        (err: Error & { details: { path: string; message: string }[] }) => {
          assert.deepEqual(
            err.details.map((d) => d.path),
            ['/sinks/0/filter/where/1', '/sinks/0/filter/where/2'],
          );
          assert.match(err.details[1]!.message, /not a JSON value \(quote strings/);
          return true;
        },
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  describe('through the gateway', () => {
    let t: TestGateway | undefined;
    afterEach(async () => {
      await t?.close();
      t = undefined;
    });

    it('delivers only the events whose fields satisfy every condition', async () => {
      let file = '';
      t = await startGateway((dir) => {
        file = join(dir, 'only-a.jsonl');
        return {
          archive: false,
          sinks: [
            {
              name: 'a',
              module: recordingSink,
              options: { file },
              filter: { where: ['studyid == "study-a"', 'data.uploadId != "skip"'] },
            },
          ],
        };
      });
      for (const [studyId, uploadId] of [
        ['study-a', 'u1'],
        ['study-b', 'u2'],
        ['study-a', 'skip'],
      ]) {
        await request(t.gateway.app!)
          .post('/sensorlogger/s')
          .send({ studyId, uploadId, secretCode: 'c' })
          .expect(200);
      }
      assert.equal((await queueState(t, 'a')).jobs, 1, 'only the matching event has a job');
      await settled(t, 'a');
      assert.deepEqual(
        readDeliveries(file).map((d) => d.event.subject),
        ['u1'],
      );
    });
  });
});
