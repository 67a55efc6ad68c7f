import type { Adapter } from './adapter/types.js';
import type { loadConfig } from './config/load-config.js';

/**
 * What the CLI hands every command. why: a platform's own command (`studyhook prolific ...`) lives
 * in its adapter folder, which the config loader's registry imports; taking the loader and the
 * registry from here instead of importing them keeps the adapter below the core.
 */
export interface CommandContext {
  loadConfig: typeof loadConfig;
  adapters: readonly Adapter[];
}

/** One `studyhook <name>` command. `args` are the words after the command name. */
export interface Command {
  name: string;
  /** One line for the usage text. */
  summary: string;
  /** What `studyhook <name> --help` prints; without it the command handles --help itself (or gets its summary). */
  usage?: string;
  /** `ctx` is always given by the CLI; the core's commands do not need it (tests call them with args only). */
  run(args: string[], ctx?: CommandContext): Promise<number>;
}

export function defineCommand(command: Command): Command {
  return command;
}
