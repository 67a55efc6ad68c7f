import type { Command } from '../../src/command.js';
import { cliContext } from '../../src/commands/index.js';

/** Runs a CLI command in-process with these arguments; returns its exit code and what it printed on stdout and stderr. */
export async function runCli(
  command: Command,
  args: string[],
): Promise<{ code: number; out: string; err: string }> {
  const { log, error } = console;
  const { write: outWrite } = process.stdout;
  const { write: errWrite } = process.stderr;
  let out = '';
  let err = '';
  console.log = (...a: unknown[]) => {
    out += `${a.join(' ')}\n`;
  };
  console.error = (...a: unknown[]) => {
    err += `${a.join(' ')}\n`;
  };
  process.stdout.write = ((chunk: string) => {
    out += chunk;
    return true;
  }) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string) => {
    err += chunk;
    return true;
  }) as typeof process.stderr.write;
  try {
    return { code: await command.run(args, cliContext), out, err };
  } finally {
    console.log = log;
    console.error = error;
    process.stdout.write = outWrite;
    process.stderr.write = errWrite;
  }
}
