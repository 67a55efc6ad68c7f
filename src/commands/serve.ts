import { parseArgs } from 'node:util';
import { loadConfig } from '../config/load-config.js';
import { createGateway } from '../gateway.js';
import { defineCommand, type Command } from '../command.js';
import { formatBanner, startupInfo } from '../log/start-banner.js';
import { keepRunningOnUnhandledRejections } from '../log/unhandled-rejections.js';

function serve(name: 'start' | 'api' | 'worker', summary: string): Command {
  return defineCommand({
    name,
    summary,
    usage: `Usage: studyhook ${name} [--config FILE]\n\n${summary}. Prints a start-up banner with the URL to register on each platform; SIGTERM or Ctrl-C drains and stops.`,
    async run(args) {
      const { values } = parseArgs({ args, options: { config: { type: 'string', short: 'c' } } });
      const config = loadConfig({ path: values.config });
      const gateway = await createGateway({
        config,
        roles: { api: name !== 'worker', worker: name !== 'api' },
        // why: exit so that the operator sees it at once, and Docker or systemd do not keep two deployments mixing events.
        onFatal: (err) => {
          gateway.logger.fatal({ err }, err.message);
          setTimeout(() => process.exit(1), 100);
        },
      });
      keepRunningOnUnhandledRejections(gateway);
      const sinks = config.sinks.map((s) => s.name);
      const port = gateway.app
        ? await gateway.listen()
        : config.workers.metricsPort !== undefined
          ? await gateway.listen(config.workers.metricsPort)
          : undefined;
      const info = startupInfo(config, name, sinks, port);
      // why: a person at a terminal reads the banner; a log collector gets the same facts as one JSON line.
      if (process.stdout.isTTY) console.log(formatBanner(info));
      else
        gateway.logger.info(
          info,
          `studyhook ${name} ${port === undefined ? 'running' : `listening on ${config.server.host}:${port}`}`,
        );
      await new Promise<void>((resolve) => {
        const stop = (signal: string): void => {
          gateway.logger.info(
            { signal, timeoutMs: config.server.shutdownTimeoutMs },
            'shutting down: draining requests and deliveries',
          );
          // why: a hung sink must not keep the process alive forever; its job stalls and comes back elsewhere.
          setTimeout(() => process.exit(1), config.server.shutdownTimeoutMs + 5000).unref();
          void gateway.close().finally(resolve);
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
      });
      return 0;
    },
  });
}

export const start = serve('start', 'API and worker in one process (the simplest set-up)');
export const api = serve('api', 'only the HTTP API (scale it behind a load balancer)');
export const worker = serve('worker', 'only the sink workers (run as many as you like)');
