import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { fixtures, REDIS_URL, testPrefix, waitFor } from './helpers/gateway.js';
import { freePort, spawnStudyhook, stop, type Studyhook } from './helpers/processes.js';

describe('a sink that leaves a promise to reject unhandled', function () {
  this.timeout(60000);
  let dir: string;
  let proc: Studyhook | undefined;
  after(async () => {
    if (proc) await stop(proc.proc, 'SIGKILL');
    await rm(dir, { recursive: true, force: true });
  });

  it('does not end `studyhook start`: the rejection is logged and counted, calls go on', async () => {
    dir = await mkdtemp(join(tmpdir(), 'studyhook-unhandled-'));
    const port = await freePort();
    const out = join(dir, 'rec.jsonl');
    const config = join(dir, 'studyhook.yml');
    await writeFile(
      config,
      stringify({
        dataDir: dir,
        archive: false,
        redis: { url: REDIS_URL, prefix: testPrefix() },
        server: { port, host: '127.0.0.1' },
        admin: { token: 'admin-token-for-tests-0123' },
        sinks: [
          {
            name: 'rej',
            module: join(fixtures, 'sinks', 'rejecting-sink.ts'),
            options: { file: out },
          },
        ],
      }),
    );
    proc = spawnStudyhook('start', config);
    const base = `http://127.0.0.1:${port}`;
    await waitFor('the API', () =>
      fetch(`${base}/healthz`).then(
        (r) => r.ok,
        () => false,
      ),
    );
    const send = async (uploadId: string) => {
      const res = await fetch(`${base}/sensorlogger/x`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ studyId: 's', uploadId, secretCode: 'c' }),
      });
      assert.equal(res.status, 200);
    };
    await send('first');
    await waitFor('the rejection logged', () => /unhandled promise rejection/.test(proc!.output()));
    assert.equal(proc.proc.exitCode, null, proc.output().slice(-2000));
    await send('second');
    await waitFor('both delivered', () => readDeliveries(out).length === 2);
    await waitFor(
      'the second rejection logged',
      () => proc!.output().match(/unhandled promise rejection/g)?.length === 2,
    );
    const metrics = await fetch(`${base}/metrics`, {
      headers: { authorization: 'Bearer admin-token-for-tests-0123' },
    }).then((r) => r.text());
    assert.match(metrics, /^studyhook_unhandled_rejections_total 2$/m);
  });
});
