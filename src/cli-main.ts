import { cliContext, commands } from './commands/index.js';
import type { Command } from './command.js';
import { StudyhookError } from './errors.js';

export const USAGE = `Usage: studyhook <command> [--config FILE] [options]

Commands:
${commands.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join('\n')}

New here? \`studyhook init my-study\` writes a starter config, .env and sink (docs/operations.md).
Config: --config FILE, else $STUDYHOOK_CONFIG, else ./studyhook.yml if present, else built-in defaults.
The .env next to the config is read too; variables already in the environment win over it.
Env overrides: PORT, REDIS_URL, STUDYHOOK_DATA_DIR, LOG_LEVEL. \`studyhook <command> --help\` for a command's options.`;

const wantsHelp = (args: readonly string[]): boolean =>
  args.some((a) => a === '--help' || a === '-h');

/** Node's parseArgs errors (unknown option, missing value): the user's typo, told in one line with the fix. */
function parseProblem(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_')
    ? (err as Error).message
    : undefined;
}

async function runCommand(command: Command, args: string[]): Promise<number> {
  if (wantsHelp(args) && command.usage !== undefined) {
    console.log(command.usage);
    return 0;
  }
  try {
    return await command.run(args, cliContext);
  } catch (err) {
    const problem = parseProblem(err);
    if (problem === undefined) throw err;
    if (wantsHelp(args)) {
      console.log(`Usage: studyhook ${command.name} [--config FILE]\n\n${command.summary}`);
      return 0;
    }
    // why: parseArgs' message already names the option; the fix is where to read the valid ones.
    console.error(
      `studyhook ${command.name}: ${problem.replace(/\.?$/, '')}. See \`studyhook ${command.name} --help\`.`,
    );
    return 2;
  }
}

/**
 * Runs the CLI with these words and returns its exit code. Expected errors (a StudyhookError, a
 * mistyped option) are printed as one line, never as a stack; a stack means a bug in studyhook.
 */
export async function runMain(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    console.log(USAGE);
    return name ? 0 : 2;
  }
  const command = commands.find((c) => c.name === name);
  if (!command) {
    console.error(`Unknown command '${name}'.\n\n${USAGE}`);
    return 2;
  }
  try {
    return await runCommand(command, rest);
  } catch (err) {
    if (err instanceof StudyhookError) console.error(`studyhook: ${err.code}: ${err.message}`);
    // why: a platform's API refusing a call (bad token, unknown workspace) is the user's to fix, not a bug of ours.
    else if (err instanceof Error && /ApiError$/.test(err.name))
      console.error(`studyhook ${name}: ${err.message}`);
    else console.error('studyhook: unexpected error (please report it):', err);
    return 1;
  }
}
