import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { StudyhookError } from '../errors.js';

export interface DotEnv {
  file: string;
  values: Record<string, string>;
}

/**
 * The `.env` in `dir`, parsed with Node's own parser (the one `node --env-file` uses), or undefined
 * when there is none. why: docker compose reads this file for the container; outside Docker the same
 * file must give the same values, or every `${VAR}` is "not set" on the first run.
 */
export function readDotEnv(dir: string): DotEnv | undefined {
  const file = join(dir, '.env');
  if (!existsSync(file)) return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new StudyhookError(
      'SH_CONFIG_INVALID',
      `${file} cannot be read: ${(err as Error).message}`,
    );
  }
  const values: Record<string, string> = {};
  for (const [k, v] of Object.entries(parseEnv(text))) if (v !== undefined) values[k] = v;
  return { file, values };
}

/** The environment seen by the config: the real environment wins over `.env`, also when it sets a variable to the empty string. */
export function withDotEnv(
  env: Record<string, string | undefined>,
  dot: DotEnv | undefined,
): Record<string, string | undefined> {
  if (!dot) return env;
  const merged: Record<string, string | undefined> = { ...dot.values };
  for (const [k, v] of Object.entries(env)) if (v !== undefined) merged[k] = v;
  return merged;
}

/** Copies `.env` values the process environment lacks into it, so that libraries reading process.env (the AWS SDK, sinks) see them too. */
export function applyDotEnv(dot: DotEnv | undefined): void {
  for (const [k, v] of Object.entries(dot?.values ?? {}))
    if (process.env[k] === undefined) process.env[k] = v;
}
