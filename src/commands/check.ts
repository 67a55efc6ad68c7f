import { parseArgs } from 'node:util';
import { maskSecrets } from '../config/interpolate.js';
import { loadConfig } from '../config/load-config.js';
import { loadSinks } from '../sinks/load-sinks.js';
import { defineCommand } from '../command.js';

export const check = defineCommand({
  name: 'check',
  summary: 'validate the config and the sinks, print the effective config (secrets masked)',
  usage:
    'Usage: studyhook check [--config FILE]\n\nValidates the config (and the .env next to it) and loads every sink; prints the effective config with secrets masked. Exit 1 lists every problem.',
  async run(args) {
    const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } } });
    const config = loadConfig({ path: values.config });
    await loadSinks(config.sinks);
    const { secretValues: _s, ...shown } = config;
    console.log(JSON.stringify(maskSecrets(shown, config.secretValues), null, 2));
    console.error(
      `config OK${config.path ? ` (${config.path})` : ' (built-in defaults)'}; ${config.sinks.length} sink(s) loaded`,
    );
    return 0;
  },
});
