#!/usr/bin/env node
import { commands } from './commands/index.js';
import { StudyhookError } from './errors.js';

const USAGE = `Usage: studyhook <command> [--config FILE] [options]

Commands:
${commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join('\n')}

Config: --config FILE, else $STUDYHOOK_CONFIG, else ./studyhook.yml if present, else built-in defaults.
Env overrides: PORT, REDIS_URL, STUDYHOOK_DATA_DIR, LOG_LEVEL.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') { console.log(USAGE); return name ? 0 : 2; }
  const command = commands.find((c) => c.name === name);
  if (!command) { console.error(`Unknown command '${name}'.\n\n${USAGE}`); return 2; }
  return command.run(rest);
}

// why: `studyhook study participants … | head` closes the pipe early; that is the reader's choice, not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => { if (err.code === 'EPIPE') process.exit(0); throw err; });

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
  if (err instanceof StudyhookError) console.error(`studyhook: ${err.code}: ${err.message}`);
  else console.error('studyhook: unexpected error:', err);
  process.exitCode = 1;
  // why: a command that failed half-way (a sink whose setup threw, a busy port) may leave Redis
  // connections and workers open; the process must still end at once so Docker or systemd restart it.
  setTimeout(() => process.exit(1), 100).unref();
});
