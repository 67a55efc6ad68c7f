// A sink that does nothing but note how long each event took from receipt to delivery, so that
// queues drain and the bench can read ingest-to-sink latency (BENCH_E2E_FILE, one ms per line).
import { appendFileSync } from 'node:fs';

const file = process.env['BENCH_E2E_FILE'];
let pending: number[] = [];

function flush(): void {
  if (file && pending.length > 0) appendFileSync(file, pending.join('\n') + '\n');
  pending = [];
}
const timer = setInterval(flush, 200);
timer.unref();

export default {
  name: 'bench-noop',
  deliver(event: { receivedat?: string }): void {
    if (file && event.receivedat) pending.push(Date.now() - Date.parse(event.receivedat));
  },
  close(): void { flush(); },
};
