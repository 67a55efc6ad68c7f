import { join } from 'node:path';
import { fixtures } from '../helpers/gateway.js';

/** Secrets of the adversarial gateway (test values only). */
export const SECRETS = {
  prolific: 'adv-prolific-secret-4b1d9e77c2',
  sensorlogger: 'adv-sensorlogger-code-5e0a2c',
  actigraph: 'adv-actigraph-passcode-81f3d6',
  mydatahelps: 'adv0mydatahelps0token0c4f8a2e91',
  /** A secret configured nowhere, for forgeries. */
  other: 'adv-not-a-configured-secret-00',
} as const;

export const LABVANCED_ORIGINS = ['https://www.labvanced.com', 'https://lab.example.org'];

/** Settings per platform and namespace, as configured (the sample builders read them too). */
export const NAMESPACES: Record<string, Record<string, Record<string, unknown>>> = {
  prolific: { signed: { secrets: [SECRETS.prolific] } },
  sensorlogger: { locked: { secretCodes: [SECRETS.sensorlogger] }, '*': {} },
  actigraph: { device: { auth: 'hmac', passcodes: [SECRETS.actigraph] } },
  labvanced: {
    web: { allowedOrigins: LABVANCED_ORIGINS, maxUploadBytes: 4 * 1024 * 1024 },
    '*': {},
  },
  mydatahelps: { app: { tokens: [SECRETS.mydatahelps] } },
};

/** Namespaces a valid request may use: the configured ones, and a few names the `*` entries take. */
export const VALID_NAMESPACES: Record<string, readonly string[]> = {
  prolific: ['signed'],
  sensorlogger: ['locked', 'pilot', 'study-2'],
  actigraph: ['device'],
  labvanced: ['web', 'stroop'],
  mydatahelps: ['app'],
};

/** The platforms with no `*` namespace: any other namespace must be refused. */
export const CLOSED_PLATFORMS = ['prolific', 'actigraph', 'mydatahelps'] as const;

/** Settings that apply to `namespace` (its own, else `*`). */
export function settingsOf(platform: string, namespace: string): Record<string, unknown> {
  const ns = NAMESPACES[platform]!;
  return Object.hasOwn(ns, namespace) ? ns[namespace]! : (ns['*'] ?? {});
}

export const SINKS = ['ledger', 'archive'] as const;
export const LEDGER_FILE = 'ledger.jsonl';

/** Timeouts short enough that a stalled request is cut within a run. */
export const HEADERS_TIMEOUT_MS = 2000;
export const REQUEST_TIMEOUT_MS = 4000;

/**
 * All five platforms with their secrets, a ledger sink (a real plugin under test/fixtures/sinks,
 * loaded by the real loader) and the archive, each retried briefly so that a failing delivery shows
 * up as a failed job within a run instead of backing off for minutes.
 */
export function adversarialConfig(outDir: string): Record<string, unknown> {
  const retry = { attempts: 3, backoff: { type: 'fixed', delayMs: 100 } };
  return {
    // why: info, for the access log line that tells when the gateway has finished with a request.
    log: { level: 'info' },
    server: {
      headersTimeoutMs: HEADERS_TIMEOUT_MS,
      requestTimeoutMs: REQUEST_TIMEOUT_MS,
      // why: every request comes from 127.0.0.1; the limiter still runs, but never refuses a valid request here.
      rateLimit: { enabled: true, perSecond: 1e6, burst: 1000000 },
    },
    platforms: Object.fromEntries(
      Object.entries(NAMESPACES).map(([p, namespaces]) => [p, { namespaces }]),
    ),
    sinks: [
      {
        name: 'ledger',
        module: join(fixtures, 'sinks', 'ledger-sink.ts'),
        options: { file: join(outDir, LEDGER_FILE) },
        ...retry,
      },
      { name: 'archive', use: 'filesystem', ...retry },
    ],
  };
}
