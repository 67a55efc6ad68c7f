import { setTimeout as sleep } from 'node:timers/promises';
import { PermanentError } from '../../errors.js';

export interface PostOptions {
  headers: Record<string, string>;
  timeoutMs: number;
  /** Longest `Retry-After` waited for inside one attempt; longer ones fall back to the sink's backoff. */
  maxRetryAfterMs: number;
}

/** Seconds or an HTTP date, as RFC 9110 allows; undefined when absent or unreadable. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

async function send(url: string, body: string, o: PostOptions): Promise<Response> {
  const res = await fetch(url, {
    method: 'POST',
    headers: o.headers,
    body,
    signal: AbortSignal.timeout(o.timeoutMs),
    redirect: 'error',
  });
  await res.arrayBuffer().catch(() => undefined);
  return res;
}

/**
 * POSTs and sorts the answer the way webhook senders agree on: 2xx done; 410 and other 4xx
 * permanent (except 408 and 429); 429, 5xx and network errors retried. A short `Retry-After` is
 * waited for once within the attempt; a long one leaves the wait to the queue's backoff.
 */
export async function postJson(
  url: string,
  body: string,
  o: PostOptions,
  build: () => Record<string, string> = () => o.headers,
): Promise<void> {
  for (let round = 0; ; round += 1) {
    const res = await send(url, body, { ...o, headers: build() });
    if (res.ok) return;
    const what = `${url.replace(/\?.*$/, '')} answered ${res.status}`;
    if (res.status === 410)
      throw new PermanentError(`${what} (gone: the receiver asks us to stop)`);
    if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429)
      throw new PermanentError(what);
    const wait = retryAfterMs(res.headers.get('retry-after'));
    if (round === 0 && wait !== undefined && wait <= o.maxRetryAfterMs) {
      await sleep(wait);
      continue;
    }
    throw new Error(wait !== undefined ? `${what}, Retry-After ${Math.ceil(wait / 1000)} s` : what);
  }
}
