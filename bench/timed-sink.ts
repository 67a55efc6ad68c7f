// A built-in sink (filesystem or postgres) with a clock: after each delivery it notes how long the
// event took from receipt to delivered (BENCH_E2E_FILE, one ms per line), like bench/noop-sink.js.
import { appendFileSync } from 'node:fs';
import { builtinSink } from '../src/sinks/builtin/index.js';
import type { Sink } from '../src/sinks/types.js';

const file = process.env['BENCH_E2E_FILE'];
let pending: number[] = [];
const flush = (): void => {
  if (file && pending.length > 0) appendFileSync(file, pending.join('\n') + '\n');
  pending = [];
};
setInterval(flush, 200).unref();

/** Options: `{ use: 'filesystem' | 'postgres', options: {...} }`, the inner sink's options with their defaults written out. */
const timed: Sink<
  { use: string; options: Record<string, unknown> },
  { inner: Sink<Record<string, unknown>, unknown>; state: unknown }
> = {
  name: 'timed',
  async setup(o, ctx) {
    const inner = builtinSink(o.use) as Sink<Record<string, unknown>, unknown>;
    return { inner, state: await inner.setup?.(o.options, ctx) };
  },
  async deliver(event, ctx) {
    await ctx.state.inner.deliver(event, { ...ctx, state: ctx.state.state });
    pending.push(Date.now() - Date.parse(event.receivedat));
  },
  async close(s) {
    flush();
    await s.inner.close?.(s.state);
  },
};
export default timed;
