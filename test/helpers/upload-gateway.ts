import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { recordingSink, REDIS_URL, testPrefix, waitFor } from './gateway.js';
import { freePort, spawnStudyhook, stop, type Studyhook } from './processes.js';
import { testBlobs } from './test-blobs.js';

/** A gateway API process taking Labvanced uploads on namespace `x`, for tests that may end it. */
export interface UploadGateway {
  dir: string;
  port: number;
  prefix: string;
  gw: Studyhook;
  /** True while /healthz answers. */
  healthy(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Starts `studyhook api` as its own process (a request that ends it ends only it), with a
 * recording sink named `sink` and a 5 s upload stall limit. why API only: every acknowledged
 * upload stays a waiting job whose blob reference can be read.
 */
export async function startUploadGateway(name: string, sink: string): Promise<UploadGateway> {
  const dir = await mkdtemp(join(tmpdir(), `studyhook-${name}-`));
  const port = await freePort();
  const prefix = testPrefix(name);
  const config = join(dir, 'studyhook.yml');
  await writeFile(
    config,
    stringify({
      dataDir: dir,
      archive: false,
      log: { level: 'info' },
      ...(await testBlobs(dir)),
      redis: { url: REDIS_URL, prefix },
      server: { port, host: '127.0.0.1', uploadStallTimeoutMs: 5000 },
      platforms: { labvanced: { namespaces: { x: {} } } },
      sinks: [{ name: sink, module: recordingSink, options: { file: join(dir, 'out.jsonl') } }],
    }),
  );
  const gw = spawnStudyhook('api', config);
  const healthy = async (): Promise<boolean> => {
    try {
      return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
    } catch {
      return false;
    }
  };
  await waitFor('the API to answer', healthy, 20000);
  return {
    dir,
    port,
    prefix,
    gw,
    healthy,
    async close() {
      await stop(gw.proc, 'SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
