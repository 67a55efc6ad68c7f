import type fc from 'fast-check';

/**
 * How long the suite fuzzes. In CI (no FUZZ_* variables) every property runs a few fixed-seed runs,
 * so the suite stays well under a minute; `npm run fuzz -- --runs N --seed S` sets the variables.
 */
export const FUZZ = {
  runs: Number(process.env['FUZZ_RUNS'] ?? 0) || undefined,
  seed: Number(process.env['FUZZ_SEED'] ?? 20260521),
  /** Per property: after this, running (or shrinking a failure) stops and what was found is reported. */
  timeLimitMs: Number(process.env['FUZZ_TIME_LIMIT_S'] ?? 0) * 1000 || undefined,
  /** Only the properties whose name contains this. */
  only: process.env['FUZZ_ONLY'] ?? '',
};

/** Stable small number per property name, so that each property gets its own fixed seed. */
function offset(name: string): number {
  let h = 0;
  for (const c of name) h = (h * 31 + c.charCodeAt(0)) % 1000;
  return h;
}

/** fast-check parameters of one property: `ciRuns` runs unless FUZZ_RUNS says otherwise. */
export function fuzzParams(
  name: string,
  ciRuns: number,
  ciTimeLimitMs: number,
): fc.Parameters<unknown> {
  const limit = FUZZ.timeLimitMs ?? (FUZZ.runs ? undefined : ciTimeLimitMs);
  return {
    numRuns: FUZZ.runs ?? ciRuns,
    seed: FUZZ.seed + offset(name),
    markInterruptAsFailure: false,
    ...(limit !== undefined && { interruptAfterTimeLimit: limit }),
  };
}
