/** One `studyhook <name>` command. `args` are the words after the command name. */
export interface Command {
  name: string;
  /** One line for the usage text. */
  summary: string;
  /** What `studyhook <name> --help` prints; without it the command handles --help itself (or gets its summary). */
  usage?: string;
  run(args: string[]): Promise<number>;
}

export function defineCommand(command: Command): Command {
  return command;
}
