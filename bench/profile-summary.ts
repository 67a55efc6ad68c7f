// Top self-time functions of a V8 .cpuprofile (from `node --cpu-prof`), ours (src/, adapters/) marked.
// Usage: tsx bench/profile-summary.ts <file.cpuprofile> [top=25]
import { readFileSync } from 'node:fs';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[] }

export interface HotSpot { fn: string; where: string; selfMs: number; share: number; ours: boolean }

export function summarise(file: string, top = 25): { totalMs: number; hot: HotSpot[]; oursMs: number } {
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
    const where = url ? `${url.replace(/^file:\/\/.*?\/(node_modules|src|adapters|bench)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${functionName}@${where}`;
    const e = self.get(key) ?? { fn: functionName || '(anonymous)', where, us: 0, ours: /^(src|adapters)\//.test(where) };
    e.us += dt;
    self.set(key, e);
  });
  const all = [...self.values()].sort((a, b) => b.us - a.us);
  const toSpot = (e: { fn: string; where: string; us: number; ours: boolean }): HotSpot => ({ fn: e.fn, where: e.where, selfMs: e.us / 1000, share: e.us / total, ours: e.ours });
  const ours = all.filter((e) => e.ours);
  return { totalMs: total / 1000, hot: [...all.slice(0, top), ...ours.slice(0, 10)].map(toSpot), oursMs: ours.reduce((s, e) => s + e.us, 0) / 1000 };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const file = process.argv[2];
  if (!file) { console.error('usage: profile-summary <file.cpuprofile> [top]'); process.exit(2); }
  const { totalMs, hot, oursMs } = summarise(file, Number(process.argv[3] ?? 25));
  console.log(`total ${totalMs.toFixed(0)} ms sampled; our code (src/, adapters/) self time ${oursMs.toFixed(0)} ms (${(100 * oursMs / totalMs).toFixed(1)}%)`);
  for (const h of hot) console.log(`${(100 * h.share).toFixed(1).padStart(5)}%  ${h.selfMs.toFixed(0).padStart(6)} ms  ${h.ours ? '*' : ' '} ${h.fn}  ${h.where}`);
}
