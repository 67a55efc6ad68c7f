import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { waitFor } from '../helpers/gateway.js';
import { PENDING_STATES, type GatewayProcess } from '../helpers/gateway-process.js';
import { NAMESPACES, REQUEST_TIMEOUT_MS } from './config.js';
import { listFiles } from './data-dir.js';
import { planOf, type Action } from './families/index.js';
import { tail, type Harness } from './harness.js';
import {
  deliveryViolations,
  leftovers,
  replyViolations,
  RSS_BOUND_BYTES,
  strayFiles,
  type Sent,
} from './invariants.js';
import { headLength, send, withRequestId } from './wire.js';

/** Bound on waiting for the queues to drain and leftovers to settle: generous, only a failing run waits it out. */
const DRAIN_MS = 10000;
const SETTLE_MS = 3000;
const DEBUG = process.env['FUZZ_DEBUG'] === '1';

/** Bytes of spool journals (`*.jsonl`, `*.jsonl.adopted-<pid>`); heartbeats and set-aside lines are not a backlog. */
async function spoolBytes(dataDir: string): Promise<number> {
  let n = 0;
  for (const f of await listFiles(join(dataDir, 'spool'))) {
    if (!/\.jsonl(\.adopted-\d+)?$/.test(f) || f.endsWith('rejected.jsonl')) continue;
    n += (await stat(f).catch(() => undefined))?.size ?? 0;
  }
  return n;
}

const PLATFORMS = new Set(Object.keys(NAMESPACES));

/** The platform a path goes to, read as the gateway reads it (leading slashes skipped, percent-decoded). */
function platformOf(path: string): string {
  const s = path.replace(/^\/+/, '').split(/[/?]/)[0] ?? '';
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * True when the ingest pipeline may still be handling the request: it reached a platform route with
 * its whole head, and no reply of the pipeline (which carries X-Request-Id) came back; a 408 is
 * node's own, sent while the pipeline may still be reading.
 */
function stillInGateway(s: Sent): boolean {
  if (!PLATFORMS.has(platformOf(s.step.wire.path))) return false;
  const d = s.step.wire.delivery;
  if (d.kind === 'cut' && d.at < headLength(s.step.wire)) return false;
  const r = s.result;
  return r.status === undefined || (r.status === 408 && r.headers['x-request-id'] === undefined);
}

/**
 * One run: sends every action's requests (the actions at once, each action's stages in order), then
 * checks every invariant and throws one error listing each one that broke.
 */
export function runActions(h: Harness, actions: readonly Action[]): Promise<void> {
  return h.exclusive(() => runExclusive(h, actions));
}

async function runExclusive(h: Harness, actions: readonly Action[]): Promise<void> {
  const started = Date.now();
  const mark = (what: string) => {
    if (DEBUG) console.error(`  run ${h.runs} ${what} at ${Date.now() - started} ms`);
  };
  const gw = await h.ensure();
  mark('gateway ready');
  const run = ++h.runs;
  await h.monitor!.take(); // why: what happened between runs (shrinking, restarts) is not this run's
  const blobsBefore = new Set(await listFiles(join(gw.dataDir, 'blobs')));
  const plans = actions.map(planOf);
  const sent: Sent[] = [];
  await Promise.all(
    plans.map(async (plan, action) => {
      let n = 0;
      for (const stage of plan) {
        await Promise.all(
          stage.map(async (step) => {
            const requestId = `adv-${h.generation}-${run}-${action}-${n++}`;
            const wire = withRequestId(step.wire, requestId);
            sent.push({
              step: { ...step, wire },
              requestId,
              action,
              result: await send(gw.port, wire, REQUEST_TIMEOUT_MS + 6000),
            });
          }),
        );
      }
    }),
  );
  sent.sort((a, b) => a.requestId.localeCompare(b.requestId, 'en', { numeric: true }));
  mark(`sent ${sent.length} requests`);

  // why: a request cut off without a reply may still be in the gateway (writing a file, failing); it is
  // waited for, so that what it does next (exit, leave a file) is this run's finding and not the next run's.
  const working = sent.filter(stillInGateway).map((s) => s.requestId);
  await waitFor(
    'the gateway to finish the requests it read',
    () => gw.exit !== undefined || working.every((id) => gw.requestsDone.has(id)),
    SETTLE_MS,
  ).catch(() => undefined);
  await barrier(gw);
  mark(`${working.length} cut requests finished`);
  const v = replyViolations(sent);
  const drained = await waitFor(
    'the sink queues and the spool to drain',
    async () => {
      if (gw.exit !== undefined) return true;
      const counts = await gw.jobCounts();
      const pending = Object.values(counts).reduce(
        (n, c) => n + PENDING_STATES.reduce((m, s) => m + (c[s] ?? 0), 0),
        0,
      );
      return pending === 0 && (await spoolBytes(gw.dataDir)) === 0;
    },
    DRAIN_MS,
  ).then(
    () => true,
    () => false,
  );
  mark(drained ? 'drained' : 'not drained');
  if (gw.exit !== undefined) {
    // why: the exit is the finding; what it did to the run's other requests (resets, refusals) is its consequence.
    h.broken = true;
    throw broken(
      run,
      [
        `the gateway process exited (${JSON.stringify(gw.exit)}); its last output:\n${tail(gw.output())}`,
      ],
      sent,
    );
  }
  if (!drained) {
    h.broken = true;
    v.push(
      `not drained within ${DRAIN_MS} ms: jobs ${JSON.stringify(await gw.jobCounts())}, spool ${await spoolBytes(gw.dataDir)} B`,
    );
  }
  for (const f of await gw.failedJobs()) {
    if (!h.seenFailed.has(`${f.sink}/${f.id}`)) {
      h.seenFailed.add(`${f.sink}/${f.id}`);
      v.push(`delivery to ${f.sink} failed for good (job ${f.id}): ${f.reason}`);
    }
  }
  const { twice } = await h.observe();
  v.push(...deliveryViolations(sent, h, twice));
  // why: a request that was answered is finished in the gateway (its files kept or removed before the
  // reply); only one cut off without a reply may still be settling there, so only then is it waited for.
  const unanswered = sent.some((s) => s.result.status === undefined);
  let left: string[] = [];
  await waitFor(
    'leftover blobs to be referenced or removed',
    async () => {
      await h.observe();
      left = await leftovers(gw, h, blobsBefore);
      return left.length === 0;
    },
    unanswered ? SETTLE_MS : 0,
  ).catch(() => undefined);
  const stray = await strayFiles(gw);
  // why: a stray or unfinished file stays, so every later run would fail on it; they get a fresh gateway.
  if (stray.length > 0 || left.some((l) => l.startsWith('unfinished'))) h.broken = true;
  v.push(...left, ...stray);
  mark('checked the data dir');
  await barrier(gw);
  const health = await h.monitor!.take();
  mark(
    `health: ${health.probes} probes, ${health.failures.length} slow, max RSS ${Math.round(health.maxRssBytes / 2 ** 20)} MiB`,
  );
  if (health.failures.length > 0)
    v.push(
      `/healthz did not answer within 1 s ${health.failures.length} of ${health.probes} times, e.g. ${JSON.stringify(health.failures.slice(0, 3))}`,
    );
  if (health.maxRssBytes > RSS_BOUND_BYTES) {
    h.broken = true;
    v.push(
      `gateway RSS reached ${Math.round(health.maxRssBytes / 2 ** 20)} MiB (bound ${RSS_BOUND_BYTES / 2 ** 20} MiB)`,
    );
  }
  if (gw.exit !== undefined) {
    h.broken = true;
    throw broken(
      run,
      [
        `the gateway process exited (${JSON.stringify(gw.exit)}); its last output:\n${tail(gw.output())}`,
      ],
      sent,
    );
  }
  h.lastRun = sent.map((x) => x.step.label).join(' | ');
  if (v.length > 0) throw broken(run, v, sent);
}

/**
 * One /healthz round trip: the gateway reads it after everything the run sent, so a crash those
 * requests set off (an error emitted after the reply) has happened once it answers. If it does not
 * answer, the process's exit is waited for (bounded), so that the crash is this run's finding.
 */
async function barrier(gw: GatewayProcess): Promise<void> {
  const up = await fetch(`${gw.url}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
    (r) => r.ok,
    () => false,
  );
  if (!up)
    await waitFor('the gateway process to exit', () => gw.exit !== undefined, 5000).catch(
      () => undefined,
    );
}

function broken(run: number, v: readonly string[], sent: readonly Sent[]): Error {
  return new Error(
    `${v.length} invariant(s) broken in run ${run}:\n- ${v.join('\n- ')}\nrequests of the run:\n  ${sent.map((s) => `${s.requestId} ${s.step.label} → ${s.result.status ?? s.result.error}`).join('\n  ')}`,
  );
}
