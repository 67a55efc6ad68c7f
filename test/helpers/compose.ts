import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const root = new URL('../../', import.meta.url).pathname;

export interface ComposeService {
  image?: string;
  build?: unknown;
  pull_policy?: string;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  profiles?: string[];
  hostname?: string;
  stop_grace_period?: string;
  healthcheck?: { test: string[] };
  depends_on?: Record<string, { condition: string; required?: boolean }>;
  networks?: Record<string, { ipv4_address?: string } | null>;
  volumes?: string[];
}

export interface ComposeFile {
  services: Record<string, ComposeService>;
  networks?: Record<string, { ipam?: { config?: { subnet: string; ip_range?: string }[] } }>;
}

/** docker-compose.yml as Compose reads it: YAML merge keys (`<<: *anchor`) applied. */
export function loadCompose(): ComposeFile {
  return parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), {
    merge: true,
  }) as ComposeFile;
}

/**
 * Compose's variable substitution: `${VAR}`, `${VAR:-default}` (defaults may nest), `$$` for a
 * literal `$`. `env` plays the shell and .env; an empty variable takes the default, as in Compose.
 */
export function substitute(value: string, env: Record<string, string> = {}): string {
  const DOLLAR = '\u0000';
  let s = value.replaceAll('$$', DOLLAR);
  for (;;) {
    const next = s.replace(
      /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^${}]*))?\}/g,
      (_m, name: string, fallback: string | undefined) => env[name] || (fallback ?? ''),
    );
    if (next === s) break;
    s = next;
  }
  return s.replaceAll(DOLLAR, '$');
}

/** A service's environment with every value substituted. */
export function serviceEnv(
  service: ComposeService,
  env: Record<string, string> = {},
): Record<string, string> {
  return Object.fromEntries(
    Object.entries(service.environment ?? {}).map(([k, v]) => [k, substitute(String(v), env)]),
  );
}

/** `10s`, `1m30s`, `500ms` → milliseconds (Compose's duration format). */
export function durationMs(value: string): number {
  let total = 0;
  for (const [, n, unit] of value.matchAll(/(\d+(?:\.\d+)?)(ms|s|m|h)/g))
    total += Number(n) * { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[unit as 'ms'];
  return total;
}

/** The host address a `ports` entry publishes on: `IP:HOST:CONTAINER`, or every interface without an IP. */
export function publishedOn(entry: string): string {
  const parts = entry.split(':');
  return parts.length === 3 ? parts[0]! : '0.0.0.0';
}

/** The studyhook services: those that run the studyhook image's CLI (`api`, `worker`, `start`). */
export function studyhookServices(file: ComposeFile): [string, ComposeService][] {
  return Object.entries(file.services).filter(([, s]) =>
    ['api', 'worker', 'start'].includes(s.command?.[0] ?? ''),
  );
}
