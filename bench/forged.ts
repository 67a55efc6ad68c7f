// `--forged`: what a flood of forged Prolific requests costs the API, per request, next to the same
// number of valid ones (issue #22, item 3: less than 2× their CPU). Two API processes: one with the
// default per-client failure limit (server.verifyFailureLimit), one with it off, so the rows show both
// the defended cost and what refusing each forged request costs by itself.
import { readFile, writeFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';
import { measureAll, type Target } from './measure.js';
import type { BenchOptions } from './options.js';
import type { Row } from './report.js';
import { startStudyhook, type Cluster } from './studyhook.js';

/** `vs`: the row's server CPU per request over that of the valid row of the same body size. */
export interface ForgedResult {
  rows: Row[];
  ratios: Array<{ name: string; limit: boolean; ratio: number; vsSmallValid: number }>;
}

interface Context {
  config: string;
  env: Record<string, string>;
  settings: BenchOptions & { redisPid?: number | undefined };
  /** Empties the queue after a valid row's run (a worker started just for that). */
  drain: () => Promise<void>;
  log: (msg: string) => void;
}

/**
 * The API's own CPU per request for valid and forged Prolific requests of two sizes (the valid
 * scenario's 141 bytes and 170 KiB), forged ones with the failure limit on (the default) and off.
 */
export async function forged(ctx: Context): Promise<ForgedResult> {
  const noLimit = ctx.config.replace(/\.yml$/, '-no-failure-limit.yml');
  const doc = parse(await readFile(ctx.config, 'utf8')) as { server: Record<string, unknown> };
  doc.server['verifyFailureLimit'] = { enabled: false };
  await writeFile(noLimit, stringify(doc));
  const clusters: Cluster[] = [];
  try {
    // why: valid requests get their own API process: all load comes from one address here, and the
    // forged rows use up that address's failures, as an attacker's would (valid senders have addresses of their own).
    for (const config of [ctx.config, ctx.config, noLimit])
      clusters.push(await startStudyhook(config, { apis: 1, workers: 0, env: ctx.env }));
    const [valid, on, off] = clusters as [Cluster, Cluster, Cluster];
    const none = async (): Promise<void> => undefined;
    const target = (c: Cluster, name: string, key: string, isValid: boolean): Target => ({
      name,
      ports: c.ports,
      pids: [c.apis[0]!.pid],
      key,
      between: isValid ? ctx.drain : none,
      drains: isValid,
    });
    const targets = [
      target(valid, 'valid, 141 B body', 'prolific', true),
      target(valid, 'valid, 170 KiB body', 'prolific-170k', true),
      target(on, 'forged, 141 B body (failure limit on, the default)', 'prolific-forged', false),
      target(
        on,
        'forged, 170 KiB body (failure limit on, the default)',
        'prolific-forged-170k',
        false,
      ),
      target(
        off,
        'forged, 141 B body (failure limit off: every one verified)',
        'prolific-forged',
        false,
      ),
      target(
        off,
        'forged, 170 KiB body (failure limit off: every one verified)',
        'prolific-forged-170k',
        false,
      ),
    ];
    const rows = await measureAll(targets, ctx.settings, ctx.log);
    const [small, large] = rows as [Row, Row];
    const ratios = rows.slice(2).map((x, i) => {
      const same = i % 2 === 0 ? small : large;
      return {
        name: x.name,
        limit: i < 2,
        ratio: same.cpuUs ? x.cpuUs / same.cpuUs : 0,
        vsSmallValid: small.cpuUs ? x.cpuUs / small.cpuUs : 0,
      };
    });
    for (const r of ratios)
      ctx.log(
        `forged: ${r.name}: ${r.ratio.toFixed(2)}× the CPU per request of a valid one of its size (${r.vsSmallValid.toFixed(2)}× a valid 141 B one)`,
      );
    return { rows, ratios };
  } finally {
    await Promise.all(clusters.map((c) => c.stop()));
  }
}
