import { runMain } from '../../src/cli-main.js';
import { runCli } from './run-cli.js';

/**
 * `studyhook <args>` in-process, through the CLI's own entry (help, option errors, one-line errors);
 * with `env`, those variables are set in process.env for the run (loadConfig reads them) and
 * process.env is put back afterwards.
 */
export function runMainCli(
  args: string[],
  env?: Record<string, string>,
): Promise<{ code: number; out: string; err: string }> {
  const run = () => runCli({ name: 'studyhook', summary: '', run: (a) => runMain(a) }, args);
  return env === undefined
    ? run()
    : keepingEnv(async () => {
        Object.assign(process.env, env);
        return run();
      });
}

/** Runs `fn` and puts process.env back as it was (commands copy the .env they read into it). */
export async function keepingEnv<T>(fn: () => Promise<T>): Promise<T> {
  const saved = { ...process.env };
  try {
    return await fn();
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}
