import { Counter } from 'prom-client';
import type { Gateway } from '../gateway.js';

/**
 * Logs a promise rejection nobody handled and keeps the process running, counting it in
 * `studyhook_unhandled_rejections_total`. why: Node ends the process on one, and a sink that starts
 * a promise without awaiting it (a forgotten `await` on a fetch) took the whole gateway down with
 * it under `studyhook start`, API included, while platforms that never retry kept calling; nothing
 * restarts `npm start`. Our own loops handle their errors, so what arrives here is a sink's (or a
 * bug, which the log line and the counter make visible). A thrown exception still ends the process,
 * as Node advises: its state may be broken.
 */
export function keepRunningOnUnhandledRejections(gateway: Gateway): void {
  const counter = new Counter({
    name: 'studyhook_unhandled_rejections_total',
    help: 'Promise rejections nobody handled (usually a sink that did not await a promise): logged, the process kept running',
    registers: [gateway.metrics.registry],
  });
  process.on('unhandledRejection', (reason) => {
    counter.inc();
    gateway.logger.error(
      { err: reason },
      'unhandled promise rejection (a sink that did not await a promise, or a bug): logged, the process keeps running',
    );
  });
}
