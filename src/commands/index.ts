import { adapters } from '../../adapters/index.js';
import type { Command, CommandContext } from '../command.js';
import { loadConfig } from '../config/load-config.js';
import { check } from './check.js';
import { exportCommand } from './export.js';
import { init } from './init.js';
import { quarantine } from './quarantine.js';
import { replay } from './replay.js';
import { sample } from './sample.js';
import { api, start, worker } from './serve.js';
import { status } from './status.js';
import { study } from './study.js';

/**
 * Every CLI command, in one explicit list: the core's, then each platform's own (`studyhook
 * prolific ...`, from the adapter's `commands`). A new core command is one module and one entry here.
 */
export const commands: readonly Command[] = [
  init,
  start,
  api,
  worker,
  check,
  status,
  sample,
  replay,
  quarantine,
  exportCommand,
  study,
  ...adapters.flatMap((a) => a.commands ?? []),
];

/** The context the CLI runs commands with (see CommandContext). */
export const cliContext: CommandContext = { loadConfig, adapters };
