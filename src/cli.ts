#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { loadConfig } from './config/load-config.js';
import { maskSecrets } from './config/interpolate.js';
import { StudyhookError } from './errors.js';
import { createGateway } from './gateway.js';
import { loadSinks } from './sinks/load-sinks.js';

const USAGE = `Usage: studyhook <command> [--config FILE]

Commands:
  start    API and worker in one process (the simplest set-up)
  api      only the HTTP API (scale it behind a load balancer)
  worker   only the sink workers (run as many as you like)
  check    validate the config and the sinks, print the effective config (secrets masked)

Config: --config FILE, else $STUDYHOOK_CONFIG, else ./studyhook.yml if present, else built-in defaults.
Env overrides: PORT, REDIS_URL, STUDYHOOK_DATA_DIR, LOG_LEVEL.`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: { config: { type: 'string', short: 'c' }, help: { type: 'boolean', short: 'h' } } });
  const command = positionals[0];
  if (values.help || !command) { console.log(USAGE); return command || values.help ? 0 : 2; }
  if (!['start', 'api', 'worker', 'check'].includes(command)) { console.error(`Unknown command '${command}'.\n\n${USAGE}`); return 2; }
  const config = loadConfig({ path: values.config });
  if (command === 'check') {
    await loadSinks(config.sinks);
    const { secretValues: _s, ...shown } = config;
    console.log(JSON.stringify(maskSecrets(shown, config.secretValues), null, 2));
    console.error(`config OK${config.path ? ` (${config.path})` : ' (built-in defaults)'}; ${config.sinks.length} sink(s) loaded`);
    return 0;
  }
  const gateway = await createGateway({ config, roles: { api: command !== 'worker', worker: command !== 'api' } });
  if (gateway.app) {
    const port = await gateway.listen();
    gateway.logger.info({ port, host: config.server.host, sinks: config.sinks.map((s) => s.name) }, `studyhook ${command} listening on ${config.server.host}:${port}`);
  } else {
    gateway.logger.info({ sinks: config.sinks.map((s) => s.name) }, 'studyhook worker running');
  }
  await new Promise<void>((resolve) => {
    const stop = (signal: string): void => {
      gateway.logger.info({ signal }, 'shutting down: draining requests and deliveries');
      void gateway.close().finally(resolve);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
  return 0;
}

main(process.argv.slice(2)).then((code) => { process.exitCode = code; }, (err: unknown) => {
  if (err instanceof StudyhookError) console.error(`studyhook: ${err.code}: ${err.message}`);
  else console.error('studyhook: unexpected error:', err);
  process.exitCode = 1;
});
