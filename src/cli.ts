#!/usr/bin/env -S node --max-semi-space-size=2
// why the flag: V8's young generation grows to 2 × 16 MiB during start-up and then holds about 20 MB
// of an idle API process; at 2 MiB it is scavenged often enough that the socket buffers an upload
// has finished with are freed before they pile up (docs/scaling.md, "Memory").
import { runMain } from './cli-main.js';

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
