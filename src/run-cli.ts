import { commands } from './commands/index.js';
import { StudyhookError } from './errors.js';

const USAGE = `Usage: studyhook <command> [--config FILE] [options]

Commands:
${commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join('\n')}

Config: --config FILE, else $STUDYHOOK_CONFIG, else ./studyhook.yml if present, else built-in defaults.
Env overrides: PORT, REDIS_URL, STUDYHOOK_DATA_DIR, LOG_LEVEL.`;

/**
 * One `studyhook …` invocation in this process, without touching the process itself (src/cli.ts, the
 * bin, sets the exit code): returns the exit code. A command that throws is reported as one line on
 * stderr and gives 1, with `failed` set so that the bin can end the process at once.
 */
export async function runCli(argv: string[]): Promise<{ code: number; failed: boolean }> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') { console.log(USAGE); return { code: name ? 0 : 2, failed: false }; }
  const command = commands.find((c) => c.name === name);
  if (!command) { console.error(`Unknown command '${name}'.\n\n${USAGE}`); return { code: 2, failed: false }; }
  try {
    return { code: await command.run(rest), failed: false };
  } catch (err) {
    if (err instanceof StudyhookError) console.error(`studyhook: ${err.code}: ${err.message}`);
    else console.error('studyhook: unexpected error:', err);
    return { code: 1, failed: true };
  }
}
