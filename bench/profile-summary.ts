// Top self-time functions of a V8 .cpuprofile (from `node --cpu-prof`), ours (src/, adapters/) marked.
// Usage: tsx bench/profile-summary.ts <file.cpuprofile> [top=25]
import { readFileSync } from 'node:fs';
import { root } from './procs.js';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
}

// why: node_modules is a symlink into the main checkout, so its files resolve outside this worktree.
const tidy = (url: string): string =>
  url.replace(`file://${root}`, '').replace(/^file:\/\/.*\/node_modules\//, 'node_modules/');

/** Where a frame's self time is charged: a package, one of our top folders, node internals or V8. */
function moduleOf(where: string, fn: string): string {
  if (!where) return fn.startsWith('(') ? fn : '(native)';
  const m = /^node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(where);
  if (m) return m[1]!;
  if (where.startsWith('node:'))
    return where.startsWith('node:internal/modules') ? 'node: module loading' : 'node: core';
  return where.split('/').slice(0, 2).join('/').replace(/:\d+$/, '');
}

export interface HotSpot {
  fn: string;
  where: string;
  selfMs: number;
  share: number;
  ours: boolean;
}

export interface Summary {
  totalMs: number;
  busyMs: number;
  hot: HotSpot[];
  oursMs: number;
  byModule: Array<{ module: string; selfMs: number; share: number }>;
}

/** Self time per function and per module; shares are of busy time (idle excluded). */
export function summarise(file: string, top = 25): Summary {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map<string, { fn: string; where: string; us: number; ours: boolean }>();
  let total = 0;
  prof.samples.forEach((id, i) => {
    const dt = prof.timeDeltas[i] ?? 0;
    total += dt;
    const n = byId.get(id);
    if (!n) return;
    const { functionName, url, lineNumber } = n.callFrame;
    const where = url ? `${tidy(url)}:${lineNumber + 1}` : '';
    const key = `${functionName}@${where}`;
    const e = self.get(key) ?? {
      fn: functionName || '(anonymous)',
      where,
      us: 0,
      ours: /^(dist\/)?(src|adapters)\//.test(where),
    };
    e.us += dt;
    self.set(key, e);
  });
  const all = [...self.values()].filter((e) => e.fn !== '(idle)').sort((a, b) => b.us - a.us);
  const busy = all.reduce((s, e) => s + e.us, 0);
  const toSpot = (e: { fn: string; where: string; us: number; ours: boolean }): HotSpot => ({
    fn: e.fn,
    where: e.where,
    selfMs: e.us / 1000,
    share: e.us / busy,
    ours: e.ours,
  });
  const ours = all.filter((e) => e.ours);
  const mods = new Map<string, number>();
  for (const e of all)
    mods.set(moduleOf(e.where, e.fn), (mods.get(moduleOf(e.where, e.fn)) ?? 0) + e.us);
  const byModule = [...mods]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)
    .map(([module, us]) => ({ module, selfMs: us / 1000, share: us / busy }));
  const hot = [
    ...all.slice(0, top),
    ...ours.slice(0, 10).filter((e) => !all.slice(0, top).includes(e)),
  ].map(toSpot);
  return {
    totalMs: total / 1000,
    busyMs: busy / 1000,
    hot,
    oursMs: ours.reduce((s, e) => s + e.us, 0) / 1000,
    byModule,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) {
    console.error('usage: profile-summary <file.cpuprofile> [top]');
    process.exit(2);
  }
  const { totalMs, busyMs, hot, oursMs, byModule } = summarise(file, Number(process.argv[3] ?? 25));
  console.log(
    `${totalMs.toFixed(0)} ms sampled, ${busyMs.toFixed(0)} ms busy; our code (src/, adapters/) self time ${oursMs.toFixed(0)} ms (${((100 * oursMs) / busyMs).toFixed(1)}% of busy)`,
  );
  for (const m of byModule)
    console.log(
      `${(100 * m.share).toFixed(1).padStart(5)}%  ${m.selfMs.toFixed(0).padStart(6)} ms  [${m.module}]`,
    );
  for (const h of hot)
    console.log(
      `${(100 * h.share).toFixed(1).padStart(5)}%  ${h.selfMs.toFixed(0).padStart(6)} ms  ${h.ours ? '*' : ' '} ${h.fn}  ${h.where}`,
    );
}
