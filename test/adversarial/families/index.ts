import fc from 'fast-check';
import type { Plan } from '../requests.js';
import { bombArb, planBomb, type BombAction } from './bombs.js';
import {
  firstCallerArb,
  forgedArb,
  planFirstCaller,
  planForged,
  type FirstCallerAction,
  type ForgedAction,
} from './forged.js';
import {
  contentTypeArb,
  headersArb,
  planContentType,
  planHeaders,
  type ContentTypeAction,
  type HeadersAction,
} from './headers.js';
import { multipartArb, planMultipart, type MultipartAction } from './multipart.js';
import { pathActionArb, planPath, type PathAction } from './paths.js';
import { planProto, protoArb, type ProtoAction } from './proto.js';
import { planReplay, replayArb, type ReplayAction } from './replay.js';
import { planReset, resetArb, type ResetAction } from './resets.js';
import {
  planSlow,
  planValid,
  slowArb,
  validArb,
  type SlowAction,
  type ValidAction,
} from './valid.js';

/** One thing a client does to the gateway in a run (plain data, so a counterexample prints readably). */
export type Action =
  | ValidAction
  | SlowAction
  | MultipartAction
  | ResetAction
  | BombAction
  | ProtoAction
  | HeadersAction
  | ContentTypeAction
  | ForgedAction
  | FirstCallerAction
  | ReplayAction
  | PathAction;

export function planOf(a: Action): Plan {
  switch (a.family) {
    case 'valid':
      return planValid(a);
    case 'slow':
      return planSlow(a);
    case 'multipart':
      return planMultipart(a);
    case 'reset':
      return planReset(a);
    case 'bomb':
      return planBomb(a);
    case 'proto':
      return planProto(a);
    case 'headers':
      return planHeaders(a);
    case 'content-type':
      return planContentType(a);
    case 'forged':
      return planForged(a);
    case 'first-caller':
      return planFirstCaller(a);
    case 'replay':
      return planReplay(a);
    case 'path':
      return planPath(a);
  }
}

/** The attack families, each tested by its own property. */
export const FAMILIES = {
  multipart: multipartArb,
  resets: fc.oneof(resetArb, slowArb),
  bombs: bombArb,
  'prototype keys': protoArb,
  headers: fc.oneof(headersArb, contentTypeArb),
  paths: pathActionArb,
  forged: fc.oneof(forgedArb, firstCallerArb),
  replays: replayArb,
} satisfies Record<string, fc.Arbitrary<Action>>;

/**
 * Runs of up to `maxActions` actions of one family mixed with valid requests, all sent at once, so
 * that the invariants are checked under attack and not only on a quiet gateway.
 */
export function runArb(family: fc.Arbitrary<Action>, maxActions = 6): fc.Arbitrary<Action[]> {
  return fc.array(
    fc.oneof(
      { weight: 2, arbitrary: family },
      { weight: 1, arbitrary: validArb as fc.Arbitrary<Action> },
    ),
    { minLength: 1, maxLength: maxActions },
  );
}

/** Every family at once. */
export const everythingArb: fc.Arbitrary<Action> = fc.oneof(
  ...(Object.values(FAMILIES) as fc.Arbitrary<Action>[]),
);
