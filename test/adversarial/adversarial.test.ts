import fc from 'fast-check';
import { everythingArb, FAMILIES, runArb, type Action } from './families/index.js';
import { Harness } from './harness.js';
import { KNOWN } from './known.js';
import { runActions } from './run.js';
import { FUZZ, fuzzParams } from './settings.js';

// A real gateway process (all five platforms with their secrets, a ledger sink and the archive) under
// property-based attack. Each run sends a few attacks mixed with valid requests at once, then checks:
// no 5xx; valid requests acknowledged; forged ones refused and stored nowhere; the process alive;
// /healthz answering within 1 s throughout; RSS under the bound; every acknowledged request delivered
// exactly once to each sink; a replayed signed request delivered at most once; no key dropped; no
// orphan blob or .part file; nothing written outside the data dir. See FINDINGS.md for what it found.
describe('adversarial HTTP suite (real gateway process)', function () {
  const h = new Harness();
  before(async function () {
    this.timeout(60000);
    await h.ensure();
  });
  after(async function () {
    this.timeout(120000);
    await h.shutdown();
  });

  // why: the counterexamples found so far (FINDINGS.md), each its own test so that each is checked off by name.
  describe('known counterexamples', () => {
    for (const k of KNOWN) {
      if (FUZZ.only) continue;
      it(`${k.id}: ${k.title}`, async function () {
        this.timeout(60000);
        await runActions(h, k.actions);
      });
    }
  });

  describe('properties (fast-check, fixed seed)', () => {
    const properties: [string, fc.Arbitrary<Action>][] = [
      ...Object.entries(FAMILIES),
      ['every family at once', everythingArb],
    ];
    for (const [name, arb] of properties) {
      if (FUZZ.only && !name.includes(FUZZ.only)) continue;
      it(`keeps every invariant under ${name}, mixed with valid requests`, async function () {
        // why: 4 runs and at most 10 s of shrinking per property in CI; `npm run fuzz` for long runs.
        const params = fuzzParams(name, 4, 10000);
        this.timeout((params.interruptAfterTimeLimit ?? 24 * 3600 * 1000) + 120000);
        await fc.assert(
          fc.asyncProperty(runArb(arb), (actions) => runActions(h, actions)),
          params,
        );
      });
    }
  });
});
