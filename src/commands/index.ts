import { check } from './check.js';
import { exportCommand } from './export.js';
import { init } from './init.js';
import { prolific } from './prolific.js';
import { quarantine } from './quarantine.js';
import { replay } from './replay.js';
import { sample } from './sample.js';
import { api, start, worker } from './serve.js';
import { status } from './status.js';
import { study } from './study.js';
import type { Command } from './types.js';

/** Every CLI command, in one explicit list. A new command is one module and one entry here. */
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
  prolific,
  exportCommand,
  study,
];
