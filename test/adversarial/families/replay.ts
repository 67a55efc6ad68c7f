import { randomBytes, randomInt } from 'node:crypto';
import fc from 'fast-check';
import { sample, setHeader, toWire, type Plan, type PlannedStep } from '../requests.js';

export type ReplayVariant =
  | 'same'
  | 'new-event-id'
  | 'no-event-id'
  | 'new-x-timestamp'
  | 'new-delivery-id'
  | 'no-delivery-id'
  | 'new-webhook-id';

/** A captured, correctly signed (or coded) request sent again, as it was or under a new delivery id: delivered at most once. */
export interface ReplayAction {
  family: 'replay';
  platform: 'prolific' | 'actigraph' | 'sensorlogger' | 'mydatahelps';
  variants: ReplayVariant[];
  /** Send the replays at the same time as the original instead of after its acknowledgement. */
  parallel: boolean;
}

const VARIANTS: Record<ReplayAction['platform'], ReplayVariant[]> = {
  prolific: ['same', 'new-event-id', 'no-event-id', 'new-x-timestamp'],
  actigraph: ['same', 'new-delivery-id', 'no-delivery-id', 'new-webhook-id'],
  sensorlogger: ['same'],
  mydatahelps: ['same'],
};

export const replayArb: fc.Arbitrary<ReplayAction> = fc
  .constantFrom<ReplayAction['platform']>('prolific', 'actigraph', 'sensorlogger', 'mydatahelps')
  .chain((platform) =>
    fc.record({
      family: fc.constant('replay' as const),
      platform: fc.constant(platform),
      variants: fc.array(fc.constantFrom(...VARIANTS[platform]), { minLength: 1, maxLength: 3 }),
      parallel: fc.boolean(),
    }),
  );

const NAMESPACE = {
  prolific: 'signed',
  actigraph: 'device',
  sensorlogger: 'locked',
  mydatahelps: 'app',
} as const;

export function planReplay(a: ReplayAction): Plan {
  // why: MyDataHelps' survey callback (route '') has a body identity; a Schedule Triggered may fire twice by design.
  const original = sample(a.platform, '', NAMESPACE[a.platform]);
  const replays: PlannedStep[] = a.variants.map((v, i) => {
    let s = original;
    if (v === 'new-event-id') s = setHeader(s, 'x-event-id', randomBytes(12).toString('hex'));
    if (v === 'no-event-id') s = setHeader(s, 'x-event-id', undefined);
    if (v === 'new-x-timestamp')
      s = setHeader(s, 'x-timestamp', new Date(Date.now() + 1000).toISOString());
    if (v === 'new-delivery-id') s = setHeader(s, 'x-actigraph-delivery', String(randomInt(1e9)));
    if (v === 'no-delivery-id') s = setHeader(s, 'x-actigraph-delivery', undefined);
    if (v === 'new-webhook-id') s = setHeader(s, 'x-actigraph-webhook-id', String(randomInt(1e9)));
    return {
      label: `replay ${i + 1} of the ${a.platform} request: ${v}`,
      wire: toWire(s),
      expect: 'any',
      replayOf: 'original',
    };
  });
  const first: PlannedStep = { label: 'original', wire: toWire(original), expect: 'valid' };
  return a.parallel ? [[first, ...replays]] : [[first], replays];
}
