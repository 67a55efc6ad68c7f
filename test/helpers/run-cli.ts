import type { Command } from '../../src/commands/types.js';
import { runMain } from '../../src/cli-main.js';

export interface CliResult { code: number; out: string; err: string }

/** Runs `fn` with everything printed on stdout and stderr captured instead of shown. */
async function capture(fn: () => Promise<number>): Promise<CliResult> {
  const { log, error } = console;
  const { write: outWrite } = process.stdout;
  const { write: errWrite } = process.stderr;
  let out = '';
  let err = '';
  console.log = (...a: unknown[]) => { out += `${a.join(' ')}\n`; };
  console.error = (...a: unknown[]) => { err += `${a.join(' ')}\n`; };
  process.stdout.write = ((chunk: string) => { out += chunk; return true; }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => { err += chunk; return true; }) as typeof process.stderr.write;
  try {
    return { code: await fn(), out, err };
  } finally {
    console.log = log;
    console.error = error;
    process.stdout.write = outWrite;
    process.stderr.write = errWrite;
  }
}

/** Runs a CLI command in-process with these arguments; returns its exit code and what it printed on stdout and stderr. */
export function runCli(command: Command, args: string[]): Promise<CliResult> {
  return capture(() => command.run(args));
}

/**
 * `studyhook <argv…>` in-process, through the same entry as the bin (usage, unknown commands, a
 * failure reported as one line), with `env` set in process.env for the run (loadConfig reads it).
 */
export async function studyhook(argv: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const saved = Object.fromEntries(Object.keys({ STUDYHOOK_CONFIG: '', ...env }).map((k) => [k, process.env[k]]));
  Object.assign(process.env, { STUDYHOOK_CONFIG: '', ...env });
  try {
    return await capture(() => runMain(argv));
  } finally {
    for (const [k, v] of Object.entries(saved)) { if (v === undefined) delete process.env[k]; else process.env[k] = v; }
  }
}
