import fc from 'fast-check';
import { PROTO_KEYS, targetArb, type Target } from '../arbs.js';
import { CLOSED_PLATFORMS, NAMESPACES } from '../config.js';
import { sample, toWire, type Expectation, type Plan } from '../requests.js';

/** A valid body sent to an odd path: empty, dot and encoded segments, prototype names, long or broken escapes. */
export interface PathAction extends Target {
  family: 'path';
  path: string;
}

const SEGMENTS = [
  'prolific',
  'sensorlogger',
  'actigraph',
  'labvanced',
  'mydatahelps',
  'signed',
  'locked',
  'device',
  'web',
  'app',
  'default',
  'recordTrial',
  'file_upload',
  'startExpPlayer',
  '',
  '.',
  '..',
  '%2e%2e',
  '%2F',
  '%00',
  '%zz',
  '%',
  '*',
  '%2A',
  'é',
  '%C3%A9',
  'a'.repeat(65),
  'a'.repeat(3000),
  ...PROTO_KEYS,
];

const pathArb = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .array(fc.constantFrom(...SEGMENTS), { minLength: 1, maxLength: 5 })
      .map((s) => `/${s.join('/')}`),
  },
  { weight: 1, arbitrary: fc.webPath() },
  {
    weight: 1,
    arbitrary: fc
      .string({ maxLength: 60 })
      .filter((s) => !/[\s]/.test(s))
      .map((s) => `/${s}`),
  },
);

export const pathActionArb: fc.Arbitrary<PathAction> = fc
  .record({ t: targetArb, path: pathArb })
  .map(({ t, path }) => ({ family: 'path' as const, ...t, path }));

function decode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/**
 * 'forged' when the path reaches a platform without a `*` namespace under a namespace that is not
 * configured (as the router reads paths: empty segments skipped, each one percent-decoded).
 */
export function expectationOf(path: string): Expectation {
  const [platform, a, b] = path
    .split('?')[0]!
    .split('/')
    .filter((s) => s.length > 0)
    .map(decode);
  if (!platform || !(CLOSED_PLATFORMS as readonly string[]).includes(platform)) return 'any';
  const namespace = b !== undefined || a !== undefined ? a! : 'default';
  return Object.hasOwn(NAMESPACES[platform]!, namespace) ? 'any' : 'forged';
}

export function planPath(a: PathAction): Plan {
  const s = sample(a.platform, a.route, a.namespace, a.event);
  return [
    [
      {
        label: `${a.platform}/${a.route} body to ${a.path.length > 80 ? `${a.path.slice(0, 80)}…` : a.path}`,
        wire: { ...toWire(s), path: a.path },
        expect: expectationOf(a.path),
      },
    ],
  ];
}
