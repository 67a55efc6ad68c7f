import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { loadConfig } from '../src/config/load-config.js';
import { createGateway, type Gateway } from '../src/gateway.js';
import { createLogger } from '../src/log/logger.js';
import { REDIS_URL, testPrefix } from './helpers/gateway.js';

describe('two deployments on one Redis prefix', () => {
  let prefix = '';
  const dirs: string[] = [];
  const open: Gateway[] = [];

  async function gateway(dataDir?: string, extra: Record<string, unknown> = {}): Promise<Gateway> {
    const dir = dataDir ?? (await mkdtemp(join(tmpdir(), 'studyhook-deploy-')));
    dirs.push(dir);
    const file = join(dir, `studyhook-${randomUUID()}.yml`);
    await writeFile(
      file,
      stringify({ dataDir: dir, redis: { url: REDIS_URL, prefix, ...extra }, archive: false }),
    );
    const g = await createGateway({
      config: loadConfig({ path: file, env: {} }),
      roles: { api: true, worker: true },
      logger: createLogger({ level: 'silent' }),
    });
    open.push(g);
    return g;
  }

  beforeEach(() => {
    prefix = testPrefix('deploy');
  });
  afterEach(async () => {
    for (const g of open.splice(0)) await g.close();
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it("refuses the second deployment at start, naming the other's data dir and the fix", async () => {
    await gateway();
    const first = dirs[0]!;
    await assert.rejects(
      gateway(),
      (err: Error & { code?: string }) =>
        err.code === 'SH_DEPLOYMENT_CONFLICT' &&
        err.message.includes(first) &&
        /redis\.prefix/.test(err.message),
    );
  });

  it('lets processes of one deployment (one data dir, or one redis.deploymentId) run side by side', async () => {
    await gateway();
    await gateway(dirs[0]);
    for (const g of open.splice(0)) await g.close();
    await gateway(undefined, { deploymentId: 'lab-one' });
    await gateway(undefined, { deploymentId: 'lab-one' });
    await assert.rejects(
      gateway(undefined, { deploymentId: 'lab-two' }),
      /SH_DEPLOYMENT_CONFLICT|Another studyhook deployment/,
    );
  });

  it('frees the prefix when the last process of a deployment stops', async () => {
    const g = await gateway();
    await g.close();
    open.splice(0);
    await gateway();
  });
});
