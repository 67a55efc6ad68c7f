import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { recordingSink, startGateway, waitFor } from './helpers/gateway.js';

describe('graceful shutdown', () => {
  it('finishes an in-flight request and delivery before close() resolves, and refuses new connections', async () => {
    let out = '';
    let started = '';
    let release = '';
    const t = await startGateway((dir) => {
      out = join(dir, 'deliveries.jsonl');
      started = join(dir, 'started');
      release = join(dir, 'release');
      // The sink notes when it has the delivery, then holds it until the test releases it.
      return {
        sinks: [
          {
            name: 'rec',
            module: recordingSink,
            options: { file: out, startedFile: started, holdUntil: release },
          },
        ],
      };
    });
    const port = await t.gateway.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${port}/sensorlogger/default`;
    try {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ studyId: 's', uploadId: 'in-flight', secretCode: 'c' }),
      });
      assert.equal(res.status, 200);
      await waitFor('the sink to start the delivery', () => existsSync(started));
      const closing = t.gateway.close();
      await waitFor('new connections refused while closing', () =>
        fetch(url, { method: 'POST', body: '{}' }).then(
          () => false,
          () => true,
        ),
      );
      assert.equal(readDeliveries(out).length, 0, 'the delivery is still held');
      await writeFile(release, '');
      await closing;
      assert.equal(
        readDeliveries(out).length,
        1,
        'the delivery in flight at SIGTERM finished before close() resolved',
      );
    } finally {
      await writeFile(release, '').catch(() => undefined);
      await t.close().catch(() => undefined);
    }
  });
});
