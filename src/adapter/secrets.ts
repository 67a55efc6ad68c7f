import type { Adapter } from './types.js';

/** Names no log line may show the value of: every platform's secret headers and secret payload fields. */
export function logSecretKeys(adapters: readonly Adapter[]): string[] {
  return adapters.flatMap((a) => [...(a.secretHeaders ?? []), ...(a.secretFields ?? [])]);
}
