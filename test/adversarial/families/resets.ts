import fc from 'fast-check';
import { targetArb, type Target } from '../arbs.js';
import { sample, toWire, type Plan, type PlannedStep } from '../requests.js';
import { wireBytes, type WireRequest } from '../wire.js';

/** Where in a request the connection goes away. */
export type Phase = 'request-line' | 'headers' | 'part-header' | 'file' | 'body' | 'before-reply';

/** A valid request (often a Labvanced upload) whose connection is reset, closed or left hanging at one phase. */
export interface ResetAction {
  family: 'reset';
  /** `upload`: a Labvanced file upload as the player sends it. */
  base: 'upload' | Target;
  phase: Phase;
  /** Where within the phase, as a fraction of its bytes (1 = right at its end). */
  fraction: number;
  afterMs: number;
  how: 'reset' | 'close' | 'hang';
  /** Copies sent at once, the n-th cut `afterMs + n % 3` ms after its bytes: a race window of a millisecond is hit more often. */
  copies: number;
}

export const resetArb: fc.Arbitrary<ResetAction> = fc.record({
  family: fc.constant('reset' as const),
  base: fc.oneof(
    { weight: 2, arbitrary: fc.constant('upload' as const) },
    { weight: 1, arbitrary: targetArb },
  ),
  phase: fc.constantFrom<Phase>(
    'request-line',
    'headers',
    'part-header',
    'file',
    'body',
    'before-reply',
  ),
  fraction: fc.oneof(fc.constantFrom(0, 1), fc.double({ min: 0, max: 1, noNaN: true })),
  afterMs: fc.integer({ min: 0, max: 5 }),
  // why: a hanging connection costs the run the gateway's request timeout; rarer than the others.
  how: fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom('reset' as const, 'close' as const) },
    { weight: 1, arbitrary: fc.constant('hang' as const) },
  ),
  copies: fc.integer({ min: 1, max: 8 }),
});

/** [start, end] byte offsets of each phase in the request's bytes. */
function phases(wire: WireRequest): Record<Exclude<Phase, 'before-reply'>, [number, number]> {
  const bytes = wireBytes(wire);
  const lineEnd = bytes.indexOf('\r\n');
  const headEnd = bytes.indexOf('\r\n\r\n') + 4;
  const file = bytes.indexOf('name="myFile"', headEnd);
  if (file < 0)
    return {
      'request-line': [1, lineEnd],
      headers: [lineEnd + 2, headEnd - 1],
      'part-header': [headEnd, bytes.length],
      file: [headEnd, bytes.length],
      body: [headEnd, bytes.length],
    };
  const partStart = bytes.lastIndexOf('\r\n--', file) + 2;
  const dataStart = bytes.indexOf('\r\n\r\n', file) + 4;
  const dataEnd = bytes.indexOf('\r\n--', dataStart);
  return {
    'request-line': [1, lineEnd],
    headers: [lineEnd + 2, headEnd - 1],
    'part-header': [partStart, dataStart],
    file: [dataStart, dataEnd],
    body: [headEnd, bytes.length],
  };
}

function planOne(a: ResetAction, afterMs: number): PlannedStep {
  const s =
    a.base === 'upload'
      ? sample('labvanced', 'file_upload', 'web')
      : sample(a.base.platform, a.base.route, a.base.namespace, a.base.event);
  const wire = toWire(s);
  const name =
    a.base === 'upload'
      ? 'labvanced upload'
      : `${a.base.platform}/${a.base.namespace}/${a.base.route}`;
  if (a.phase === 'before-reply') {
    return {
      label: `reset ${afterMs} ms after sending all of ${name}`,
      wire: { ...wire, delivery: { kind: 'reset-before-reply', afterMs } },
      expect: 'any',
    };
  }
  const [from, to] = phases(wire)[a.phase];
  const at = Math.round(from + (to - from) * a.fraction);
  return {
    label: `${a.how} ${afterMs} ms after ${at} B (${a.phase}) of ${name}`,
    wire: { ...wire, delivery: { kind: 'cut', at, afterMs, how: a.how } },
    expect: 'any',
  };
}

export function planReset(a: ResetAction): Plan {
  return [Array.from({ length: a.copies }, (_, n) => planOne(a, a.afterMs + (n % 3)))];
}
