#!/usr/bin/env node
import { runMain } from './cli-main.js';
import { npmScriptCwd } from './config/npm-script.js';

// why: npm runs a script in the package root, not where it was typed; in a checkout `cd my-study &&
// npm run studyhook -- check` must read my-study/studyhook.yml (and relative paths mean my-study/...).
const typedIn = npmScriptCwd();
if (typedIn) process.chdir(typedIn);

// why: `studyhook study participants … | head` closes the pipe early; that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

void runMain(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
  // why: a command that failed half-way (a sink whose setup threw, a busy port) may leave Redis
  // connections and workers open; the process must still end at once so Docker or systemd restart it.
  if (code !== 0) setTimeout(() => process.exit(code), 100).unref();
});
