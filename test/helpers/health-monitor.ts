import { Worker } from 'node:worker_threads';

/** What the monitor saw since the last `take()`. */
export interface HealthReport {
  probes: number;
  /** Probes of /healthz that did not answer 200 within the bound. */
  failures: { at: string; ms: number; reason: string }[];
  /** Largest resident set size of the gateway process seen (from /proc/<pid>/status), in bytes. */
  maxRssBytes: number;
}

export interface HealthMonitor {
  /** The report since the last call, then starts a new one. */
  take(): Promise<HealthReport>;
  stop(): Promise<void>;
}

// why: a worker thread, so that a busy test process (building a 10 MB body, parsing a ledger) does not
// delay the probes and report the gateway as slow when it is not.
const PROBER = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
const { readFileSync } = require('node:fs');
const { url, pid, intervalMs, boundMs } = workerData;
let report = { probes: 0, failures: [], maxRssBytes: 0 };
let stopped = false;
function rss() {
  try { const m = /VmRSS:\\s+(\\d+) kB/.exec(readFileSync('/proc/' + pid + '/status', 'utf8')); if (m) report.maxRssBytes = Math.max(report.maxRssBytes, Number(m[1]) * 1024); } catch {}
}
function probe() {
  return new Promise((resolve) => {
    const start = Date.now();
    let done = false;
    const finish = (reason) => {
      if (done) return; done = true; clearTimeout(timer);
      const ms = Date.now() - start;
      report.probes++;
      if (reason || ms > boundMs) report.failures.push({ at: new Date(start).toISOString(), ms, reason: reason || 'answered after ' + ms + ' ms' });
      resolve();
    };
    const req = http.get(url + '/healthz', { agent: false }, (res) => { res.resume(); res.on('end', () => finish(res.statusCode === 200 ? '' : 'status ' + res.statusCode)); res.on('error', (e) => finish(e.message)); });
    const timer = setTimeout(() => { finish('no answer within ' + boundMs + ' ms'); req.destroy(); }, boundMs);
    req.on('error', (e) => finish(e.message));
  });
}
(async () => { while (!stopped) { rss(); await probe(); await new Promise((r) => setTimeout(r, intervalMs)); } })();
parentPort.on('message', (m) => {
  if (m === 'take') { rss(); parentPort.postMessage(report); report = { probes: 0, failures: [], maxRssBytes: 0 }; }
  if (m === 'stop') { stopped = true; parentPort.close(); }
});
`;

/** Probes `<url>/healthz` every `intervalMs` (each must answer 200 within `boundMs`) and samples the RSS of `pid`. */
export function startHealthMonitor(
  url: string,
  pid: number,
  opts: { intervalMs?: number; boundMs?: number } = {},
): HealthMonitor {
  const worker = new Worker(PROBER, {
    eval: true,
    workerData: { url, pid, intervalMs: opts.intervalMs ?? 100, boundMs: opts.boundMs ?? 1000 },
  });
  worker.unref();
  return {
    take: () =>
      new Promise((resolve) => {
        worker.once('message', resolve);
        worker.postMessage('take');
      }),
    async stop() {
      worker.postMessage('stop');
      await worker.terminate();
    },
  };
}
