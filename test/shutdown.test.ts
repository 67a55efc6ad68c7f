import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readDeliveries } from './fixtures/sinks/recording-sink.js';
import { recordingSink, sleep, startGateway } from './helpers/gateway.js';

describe('graceful shutdown', () => {
  it('finishes an in-flight request and delivery before close() resolves, and refuses new connections', async () => {
    let out = '';
    const t = await startGateway((dir) => {
      out = join(dir, 'deliveries.jsonl');
      return { sinks: [{ name: 'rec', module: recordingSink, options: { file: out, delayMs: 800 } }] };
    });
    const port = await t.gateway.listen(0, '127.0.0.1');
    const url = `http://127.0.0.1:${port}/sensorlogger/default`;
    try {
      const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ studyId: 's', uploadId: 'in-flight', secretCode: 'c' }) });
      assert.equal(res.status, 200);
      await sleep(150); // the worker has picked the job up; the sink takes 800 ms
      await t.gateway.close();
      assert.equal(readDeliveries(out).length, 1, 'the delivery in flight at SIGTERM finished');
      await assert.rejects(fetch(url, { method: 'POST', body: '{}' }));
    } finally {
      await t.close().catch(() => undefined);
    }
  });
});
