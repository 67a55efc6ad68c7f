// A sink that does nothing but note how long each event took from receipt to delivery, so that
// queues drain and the bench can read ingest-to-sink latency (BENCH_E2E_FILE, one ms per line).
// why: plain JavaScript, so that the built CLI (dist/) loads it without tsx.
import { appendFileSync } from 'node:fs';
import process from 'node:process';
import { setInterval } from 'node:timers';

const file = process.env['BENCH_E2E_FILE'];
/** @type {number[]} */
let pending = [];

function flush() {
  if (file && pending.length > 0) appendFileSync(file, pending.join('\n') + '\n');
  pending = [];
}
const timer = setInterval(flush, 200);
timer.unref();

export default {
  name: 'bench-noop',
  /** @param {{ receivedat?: string }} event */
  deliver(event) {
    if (file && event.receivedat) pending.push(Date.now() - Date.parse(event.receivedat));
  },
  close() {
    flush();
  },
};
