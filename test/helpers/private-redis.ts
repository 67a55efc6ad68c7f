import { freePort, startRedis, stop } from './processes.js';

/** A redis-server of the test's own, which it may stop (the shared one on 6379 stays untouched). */
export async function startPrivateRedis(
  dir: string,
): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const proc = await startRedis(port, dir);
  return { url: `redis://127.0.0.1:${port}`, stop: () => stop(proc, 'SIGKILL') };
}
