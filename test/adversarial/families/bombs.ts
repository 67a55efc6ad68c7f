import fc from 'fast-check';
import { formTargetArb, jsonTargetArb, SCALE, type Target } from '../arbs.js';
import {
  FORM_TYPE,
  formBody,
  isAuthentic,
  payloadOf,
  sample,
  toWire,
  withBody,
  type Plan,
} from '../requests.js';

export type JsonShape =
  'array-depth' | 'object-depth' | 'array-width' | 'object-width' | 'string-width' | 'truncated';
export type FormShape = 'form-depth' | 'form-width' | 'form-array' | 'form-index';

/**
 * A depth or width bomb, alone (`root`) or as an extra field of an otherwise valid, correctly signed
 * request; or (`truncated`) the valid JSON body with its last `n` bytes cut off, signed as it is.
 */
export interface BombAction extends Target {
  family: 'bomb';
  shape: JsonShape | FormShape;
  n: number;
  at: 'field' | 'root';
}

const depth = fc.oneof(
  fc.integer({ min: 1, max: 200 }),
  fc.integer({ min: 200, max: 6000 * SCALE }),
);
const width = fc.oneof(
  fc.integer({ min: 1, max: 1000 }),
  fc.integer({ min: 1000, max: 60_000 * SCALE }),
);

const jsonBomb = fc
  .record({
    t: jsonTargetArb,
    shape: fc.constantFrom<JsonShape>(
      'array-depth',
      'object-depth',
      'array-width',
      'object-width',
      'string-width',
      'truncated',
    ),
    at: fc.constantFrom('field' as const, 'root' as const),
  })
  .chain(({ t, shape, at }) =>
    (shape === 'truncated'
      ? fc.integer({ min: 1, max: 40 })
      : shape.endsWith('depth')
        ? depth
        : width
    ).map((n) => ({
      family: 'bomb' as const,
      ...t,
      shape,
      n,
      at: shape === 'truncated' ? ('root' as const) : at,
    })),
  );

const formBomb = fc
  .record({
    t: formTargetArb,
    shape: fc.constantFrom<FormShape>('form-depth', 'form-width', 'form-array', 'form-index'),
  })
  .chain(({ t, shape }) =>
    (shape === 'form-depth' ? depth : width).map((n) => ({
      family: 'bomb' as const,
      ...t,
      shape,
      n,
      at: 'field' as const,
    })),
  );

export const bombArb: fc.Arbitrary<BombAction> = fc.oneof(
  { weight: 3, arbitrary: jsonBomb },
  { weight: 1, arbitrary: formBomb },
);

function jsonText(shape: JsonShape, n: number): string {
  switch (shape) {
    case 'array-depth':
      return `${'['.repeat(n)}${']'.repeat(n)}`;
    case 'object-depth':
      return `${'{"a":'.repeat(n)}1${'}'.repeat(n)}`;
    case 'array-width':
      return `[${Array.from({ length: n }, () => '{}').join(',')}]`;
    case 'object-width':
      return `{${Array.from({ length: n }, (_, i) => `"k${i}":1`).join(',')}}`;
    case 'string-width':
      return JSON.stringify('x'.repeat(n));
    case 'truncated':
      throw new Error('a truncated body is cut from the sample, not built');
  }
}

function formText(shape: FormShape, n: number): string {
  switch (shape) {
    case 'form-depth':
      return `bomb${'[a]'.repeat(n)}=1`;
    case 'form-width':
      return Array.from({ length: n }, (_, i) => `k${i}=1`).join('&');
    case 'form-array':
      return Array.from({ length: n }, () => 'bomb[]=1').join('&');
    case 'form-index':
      return `bomb[${n}]=1`;
  }
}

export function planBomb(a: BombAction): Plan {
  const s = sample(a.platform, a.route, a.namespace, a.event);
  const payload = payloadOf(s)!;
  let body: Buffer;
  let type: string | undefined;
  if (a.shape.startsWith('form-')) {
    body = Buffer.concat([
      formBody(payload),
      Buffer.from(`&${formText(a.shape as FormShape, a.n)}`),
    ]);
    type = FORM_TYPE;
  } else if (a.shape === 'truncated') {
    const text = JSON.stringify(payload);
    body = Buffer.from(text.slice(0, Math.max(1, text.length - a.n)));
  } else {
    const bomb = jsonText(a.shape as JsonShape, a.n);
    body = Buffer.from(
      a.at === 'root' ? bomb : `{"bomb":${bomb},${JSON.stringify(payload).slice(1)}`,
    );
  }
  const wire = toWire(withBody(a.platform, s, body, type));
  // why: a Sensor Logger code is in the body, so only a parseable body with the code is authenticated.
  const authentic = isAuthentic(
    a.platform,
    a.namespace,
    a.at === 'field' && a.shape !== 'truncated',
  );
  return [
    [
      {
        label: `${a.shape} ${a.n} (${a.at}) on ${a.platform}/${a.namespace}/${a.route}, ${body.length} B`,
        wire,
        expect: 'any',
        authentic,
      },
    ],
  ];
}
