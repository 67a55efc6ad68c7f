import { join } from 'node:path';
import type { LedgerEntry } from '../fixtures/sinks/ledger-sink.js';
import { spawnGatewayProcess, type GatewayProcess } from '../helpers/gateway-process.js';
import { startHealthMonitor, type HealthMonitor } from '../helpers/health-monitor.js';
import { adversarialConfig, LEDGER_FILE, SINKS } from './config.js';
import { JsonlTail, recordFields } from './data-dir.js';

/** Deliveries seen by one sink, indexed the ways the checks look them up. */
export class SinkIndex {
  readonly byId = new Map<string, number>();
  readonly byRequest = new Map<string, string[]>();
  readonly bySha = new Map<string, number>();
  /** Event ids of the latest `add` calls that are now seen more than once. */
  add(entries: readonly { id?: string; requestid?: string; bodysha256?: string }[]): string[] {
    const twice: string[] = [];
    for (const e of entries) {
      if (e.id !== undefined) {
        const n = (this.byId.get(e.id) ?? 0) + 1;
        this.byId.set(e.id, n);
        if (n > 1) twice.push(e.id);
      }
      if (e.requestid !== undefined)
        this.byRequest.set(e.requestid, [...(this.byRequest.get(e.requestid) ?? []), e.id ?? '?']);
      if (e.bodysha256 !== undefined)
        this.bySha.set(e.bodysha256, (this.bySha.get(e.bodysha256) ?? 0) + 1);
    }
    return twice;
  }
}

/** What the data dir held after a run, added to what earlier runs of the same gateway left. */
export interface Observed {
  ledger: LedgerEntry[];
  twice: { sink: string; id: string }[];
}

/**
 * One real gateway process shared by the runs of the suite, with what it has delivered so far. A run
 * that leaves it broken (exited, not drained, over the memory bound) gets a fresh one next time, so
 * that one finding does not fail every later run (and shrinking stays about the run that broke it).
 */
export class Harness {
  gw: GatewayProcess | undefined;
  monitor: HealthMonitor | undefined;
  ledger = new SinkIndex();
  archive = new SinkIndex();
  quarantine = new Set<string>();
  referencedBlobs = new Set<string>();
  ledgerEntries = new Map<string, LedgerEntry[]>();
  seenFailed = new Set<string>();
  generation = 0;
  runs = 0;
  broken = false;
  private tails: { ledger: JsonlTail; archive: JsonlTail; quarantine: JsonlTail } | undefined;

  /** Labels of the requests of the last run, for a crash that shows only after its checks. */
  lastRun = '';

  private closed = false;
  private running: Promise<unknown> = Promise.resolve();

  /**
   * Runs `fn` after the runs before it have ended. why: fast-check abandons a run it interrupts at its
   * time limit; the run goes on in the background and must not overlap the next one on the same gateway.
   */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.running.then(fn, fn);
    this.running = next.catch(() => undefined);
    return next;
  }

  async ensure(): Promise<GatewayProcess> {
    if (this.closed) throw new Error('the harness is closed (a run outlived its test)');
    if (this.gw && !this.broken && this.gw.exit === undefined) return this.gw;
    const late = this.gw && !this.broken ? this.gw : undefined;
    const lateOutput = late ? tail(late.output()) : '';
    await this.close();
    if (late) {
      // why: never masked: this run fails (with a fresh gateway for the next one), naming the run that did it.
      throw new Error(
        `the gateway process exited (${JSON.stringify(late.exit)}) after run ${this.runs} had passed its checks, so one of that run's requests probably killed it: ${this.lastRun}\n${lateOutput}`,
      );
    }
    this.generation++;
    this.ledger = new SinkIndex();
    this.archive = new SinkIndex();
    this.quarantine = new Set();
    this.referencedBlobs = new Set();
    this.ledgerEntries = new Map();
    this.seenFailed = new Set();
    this.broken = false;
    const gw = await spawnGatewayProcess({ config: adversarialConfig, sinks: SINKS });
    this.gw = gw;
    this.monitor = startHealthMonitor(gw.url, gw.pid);
    this.tails = {
      ledger: new JsonlTail(join(gw.outDir, LEDGER_FILE), true),
      archive: new JsonlTail(join(gw.dataDir, 'events')),
      quarantine: new JsonlTail(join(gw.dataDir, 'quarantine')),
    };
    return gw;
  }

  /** Reads what the sinks and the quarantine wrote since the last call into the indexes. */
  async observe(): Promise<Observed> {
    const t = this.tails!;
    const ledger = (await t.ledger.readNew()).map((l) => JSON.parse(l) as LedgerEntry);
    for (const e of ledger)
      this.ledgerEntries.set(e.requestid, [...(this.ledgerEntries.get(e.requestid) ?? []), e]);
    const twice = this.ledger.add(ledger).map((id) => ({ sink: 'ledger', id }));
    const archived = (await t.archive.readNew()).map(recordFields);
    twice.push(...this.archive.add(archived).map((id) => ({ sink: 'archive', id })));
    for (const f of archived) for (const b of f.blobs) this.referencedBlobs.add(b);
    for (const f of (await t.quarantine.readNew()).map(recordFields)) {
      if (f.requestid !== undefined) this.quarantine.add(f.requestid);
      for (const b of f.blobs) this.referencedBlobs.add(b);
    }
    return { ledger, twice };
  }

  /** Waits for a run still going, then stops the gateway; no run may start a gateway afterwards. */
  async shutdown(): Promise<void> {
    this.closed = true;
    await this.running;
    await this.close();
  }

  async close(): Promise<void> {
    await this.monitor?.stop();
    await this.gw?.stop();
    this.monitor = undefined;
    this.gw = undefined;
  }
}

/** The end of a gateway's output without its info and warn lines (access log, quarantine notes). */
export function tail(output: string): string {
  const lines = output
    .trim()
    .split('\n')
    .filter((l) => !/^\{"level":(30|40),/.test(l));
  return lines.slice(-25).join('\n').slice(-3000);
}
