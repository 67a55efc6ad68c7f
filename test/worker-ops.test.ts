import assert from 'node:assert/strict';
import { join } from 'node:path';
import request from 'supertest';
import { loadConfig } from '../src/config/load-config.js';
import { createGateway } from '../src/gateway.js';
import { createLogger } from '../src/log/logger.js';
import { startGateway, waitFor } from './helpers/gateway.js';

const TOKEN = 'worker-ops-admin-token-0123';

describe('worker-only process', () => {
  it('serves /healthz and token-guarded /metrics with its delivery counters, and no platform routes', async () => {
    const api = await startGateway(
      { admin: { token: TOKEN } },
      { roles: { api: true, worker: false } },
    );
    const worker = await createGateway({
      config: loadConfig({ path: join(api.dataDir, 'studyhook.yml'), env: {} }),
      roles: { api: false, worker: true },
      logger: createLogger({ level: 'silent' }),
    });
    try {
      const port = await worker.listen(0, '127.0.0.1');
      const base = `http://127.0.0.1:${port}`;
      await request(api.gateway.app!)
        .post('/sensorlogger/x')
        .send({ studyId: 's', uploadId: 'u-worker-ops', secretCode: 'c' })
        .expect(200);
      await request(base).get('/healthz').expect(200);
      await request(base).get('/metrics').expect(401);
      await request(base).post('/sensorlogger/x').send({}).expect(404);
      const text = await waitFor('a delivery counted by the worker', async () => {
        const res = await request(base)
          .get('/metrics')
          .set('Authorization', `Bearer ${TOKEN}`)
          .expect(200);
        return (
          /studyhook_deliveries_total\{sink="archive",outcome="ok"\} 1/.test(res.text) && res.text
        );
      });
      assert.match(text, /studyhook_queue_jobs\{sink="archive",state="/);
    } finally {
      await worker.close();
      await api.close();
    }
  });
});
