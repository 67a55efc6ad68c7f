import fc from 'fast-check';
import { targetArb, type Target } from '../arbs.js';
import { sample, toWire, type Plan } from '../requests.js';

/** A request exactly as the platform sends it, built by the project's sample builder: must be acknowledged and delivered once. */
export interface ValidAction extends Target {
  family: 'valid';
}

export const validArb: fc.Arbitrary<ValidAction> = targetArb.map((t) => ({
  family: 'valid' as const,
  ...t,
}));

export function planValid(a: ValidAction): Plan {
  return [
    [
      {
        label: `valid ${a.platform}/${a.namespace}/${a.route}`,
        wire: toWire(sample(a.platform, a.route, a.namespace, a.event)),
        expect: 'valid',
      },
    ],
  ];
}

/** A valid request whose bytes trickle in: it must be acknowledged all the same (it ends well within the request timeout). */
export interface SlowAction extends Target {
  family: 'slow';
  chunkBytes: number;
  delayMs: number;
}

export const slowArb: fc.Arbitrary<SlowAction> = fc
  .record({
    t: targetArb,
    chunkBytes: fc.integer({ min: 1, max: 4096 }),
    delayMs: fc.integer({ min: 1, max: 40 }),
  })
  .map(({ t, chunkBytes, delayMs }) => ({ family: 'slow' as const, ...t, chunkBytes, delayMs }));

/** The whole drip stays under this, so that a refusal is the gateway's fault, not the request timeout's. */
const DRIP_MS = 1000;

export function planSlow(a: SlowAction): Plan {
  const wire = toWire(sample(a.platform, a.route, a.namespace, a.event));
  const size = wire.body.length + 400;
  const chunkBytes = Math.max(a.chunkBytes, Math.ceil(size / Math.max(1, DRIP_MS / a.delayMs)));
  return [
    [
      {
        label: `slow ${a.platform}/${a.namespace}/${a.route} (${chunkBytes} B every ${a.delayMs} ms)`,
        wire: { ...wire, delivery: { kind: 'slow', chunkBytes, delayMs: a.delayMs } },
        expect: 'valid',
      },
    ],
  ];
}
