import assert from 'node:assert/strict';
import { appendFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import request from 'supertest';
import { quarantine } from '../src/commands/quarantine.js';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { recordingSink, startGateway, waitFor, type TestGateway } from './helpers/gateway.js';
import { queueState, settled } from './helpers/queue-state.js';

async function run(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const [log, error] = [console.log, console.error];
  let out = '';
  let err = '';
  console.log = (...a: unknown[]) => {
    out += `${a.join(' ')}\n`;
  };
  console.error = (...a: unknown[]) => {
    err += `${a.join(' ')}\n`;
  };
  try {
    return { code: await quarantine.run(args), out, err };
  } finally {
    console.log = log;
    console.error = error;
  }
}

describe('studyhook quarantine', () => {
  let t: TestGateway;
  let out: string;
  let config: string;
  beforeEach(async () => {
    t = await startGateway((dir) => {
      out = join(dir, 'deliveries.jsonl');
      return {
        platforms: { sensorlogger: { namespaces: { pilot: {} } } },
        sinks: [{ name: 'rec', module: recordingSink, options: { file: out } }],
      };
    });
    config = join(t.dataDir, 'studyhook.yml');
  });
  afterEach(async () => {
    await t.close();
  });

  it('lists quarantined payloads, republishes those that pass the current schema once, and skips those still invalid', async () => {
    await request(t.gateway.app!)
      .post('/sensorlogger/pilot')
      .send({ studyId: 's', secretCode: 'c' })
      .expect(422);
    // A record kept while an earlier, stricter schema was in force: it passes today's schema.
    const dir = join(t.dataDir, 'quarantine', 'sensorlogger', 'pilot');
    await mkdir(dir, { recursive: true });
    await appendFile(
      join(dir, '2026-01-02.jsonl'),
      `${JSON.stringify({ receivedat: '2026-01-02T10:00:00.000Z', requestid: 'r-old', platform: 'sensorlogger', namespace: 'pilot', route: '', bodysha256: 'ab', problems: [{ path: '/x', message: 'old rule' }], payload: { studyId: 's', uploadId: 'u-late', secretCode: '[redacted]' } })}\n`,
    );
    // A line torn by a full disk: reported and skipped, the others still read.
    await appendFile(
      join(dir, '2026-01-03.jsonl'),
      '{"receivedat":"2026-01-03T10:00:00.000Z","requestid":"r-torn","plat',
    );

    const listed = await run(['list', '--config', config]);
    assert.equal(listed.code, 0);
    assert.equal(listed.out.trim().split('\n').length, 2);
    assert.match(listed.err, /skipped .*2026-01-03\.jsonl:1: not a JSON record/);
    assert.match(listed.out, /"status":"quarantined"/);

    const first = await run(['republish', '--config', config]);
    assert.match(first.err, /republished 1 record\(s\); 1 still invalid/);
    await waitFor('the republished event', () => readDeliveries(out).length === 1);
    assert.equal(
      (readDeliveries(out)[0]!.event['data'] as { uploadId: string }).uploadId,
      'u-late',
    );

    const second = await run(['republish', '--config', config]);
    assert.match(second.err, /republished 0 record\(s\)/);
    assert.equal((await queueState(t, 'rec')).jobs, 1, 'the second republish queued nothing');
    await settled(t, 'rec');
    assert.equal(readDeliveries(out).length, 1);
    assert.match((await run(['list', '--config', config])).out, /"status":"republished"/);
  });

  it('prints usage for an unknown action', async () => {
    assert.equal((await run(['purge', '--config', config])).code, 2);
  });
});
