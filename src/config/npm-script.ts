/** True when the CLI runs as the checkout's `npm run studyhook -- …` script. */
export function runAsNpmScript(env: NodeJS.ProcessEnv = process.env): boolean {
  return env['npm_lifecycle_event'] === 'studyhook';
}

/**
 * The directory `npm run studyhook -- …` was typed in (npm runs a script in the package root and
 * passes that directory as INIT_CWD); undefined when the CLI was started otherwise.
 */
export function npmScriptCwd(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return runAsNpmScript(env) ? env['INIT_CWD'] || undefined : undefined;
}
