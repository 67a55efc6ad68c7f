import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { stringify } from 'yaml';
import { adapters } from '../../adapters/index.js';
import { logSecretKeys } from '../../src/adapter/secrets.js';
import { loadConfig } from '../../src/config/load-config.js';
import { createGateway, type Gateway } from '../../src/gateway.js';
import { createLogger } from '../../src/log/logger.js';
import { testBlobs } from './test-blobs.js';
import { REDIS_URL, testPrefix } from './test-run.js';

export { deleteKeys, REDIS_URL, testPrefix } from './test-run.js';
export const fixtures = new URL('../fixtures/', import.meta.url).pathname;
export const recordingSink = join(fixtures, 'sinks', 'recording-sink.ts');

export interface TestGateway {
  gateway: Gateway;
  dataDir: string;
  prefix: string;
  /** Every log line the gateway wrote. */
  logs: string[];
  close(): Promise<void>;
}

/**
 * A real gateway (API + workers) on the real Redis, configured through a real YAML file and the real
 * loader, with a fresh queue prefix and data directory per call; `close()` removes the directory
 * (the run's keys go at its end: test/helpers/test-run.ts).
 */
export async function startGateway(
  config: Record<string, unknown> | ((dataDir: string) => Record<string, unknown>),
  opts: { roles?: { api: boolean; worker: boolean }; env?: Record<string, string> } = {},
): Promise<TestGateway> {
  const dataDir = await mkdtemp(join(tmpdir(), 'studyhook-test-'));
  const prefix = testPrefix();
  const file = join(dataDir, 'studyhook.yml');
  await writeFile(
    file,
    stringify({
      dataDir,
      redis: { url: REDIS_URL, prefix },
      server: { port: 0, host: '127.0.0.1' },
      ...(await testBlobs(dataDir)),
      ...(typeof config === 'function' ? config(dataDir) : config),
    }),
  );
  const resolved = loadConfig({ path: file, env: opts.env ?? {} });
  const logs: string[] = [];
  const logger = createLogger({
    level: 'debug',
    secretValues: resolved.secretValues,
    secretKeys: logSecretKeys(adapters),
    destination: new Writable({
      write(chunk, _e, cb) {
        logs.push(String(chunk));
        cb();
      },
    }),
  });
  const gateway = await createGateway({
    config: resolved,
    roles: opts.roles ?? { api: true, worker: true },
    logger,
    stalledIntervalMs: 1000,
  });
  return {
    gateway,
    dataDir,
    prefix,
    logs,
    async close() {
      await gateway.close();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls `check` until it returns a truthy value or the time is up (then throws with `what`). */
export async function waitFor<T>(
  what: string,
  check: () => T | Promise<T>,
  timeoutMs = 10000,
): Promise<Exclude<T, false | null | undefined | 0 | ''>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as Exclude<T, false | null | undefined | 0 | ''>;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
