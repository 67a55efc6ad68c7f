import { Counter, Gauge, type Registry } from 'prom-client';

/** The spool's metrics, registered in `registers`; the gauge reads `backlog()` when scraped. */
export function spoolMetrics(
  registers: Registry[],
  backlog: () => number,
): { spooled: Counter; refused: Counter; setAside: Counter } {
  new Gauge({
    name: 'studyhook_spool_bytes',
    help: 'Bytes of acknowledged events waiting in the local spool for Redis (own and adopted journals)',
    registers,
    collect() {
      this.set(backlog());
    },
  });
  return {
    spooled: new Counter({
      name: 'studyhook_spooled_events_total',
      help: 'Events spooled locally because Redis was unavailable',
      registers,
    }),
    refused: new Counter({
      name: 'studyhook_spool_full_total',
      help: 'Requests refused (503) because the spool was full or could not be written',
      registers,
    }),
    setAside: new Counter({
      name: 'studyhook_spool_rejected_total',
      help: 'Spool lines set aside in spool/rejected.jsonl because they could not be published for a reason other than Redis being away',
      registers,
    }),
  };
}
