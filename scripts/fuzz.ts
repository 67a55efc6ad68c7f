// Long runs of the adversarial HTTP suite (test/adversarial): the same properties and invariants as
// in CI, with more runs, another seed, bigger bodies and a longer time limit.
//
//   npm run fuzz -- --runs 500 --seed 42 [--only multipart] [--scale 8] [--time-limit 1800] [--rss-mb 1024]
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';

const USAGE = `Usage: npm run fuzz -- [--runs N] [--seed S] [--only FAMILY] [--scale K] [--time-limit SECONDS] [--rss-mb MB] [--debug]
  --runs N          runs per property (default 200; CI runs a few)
  --seed S          base seed (default: a new random one, printed; re-run with it to reproduce)
  --only FAMILY     only the properties whose name contains FAMILY (multipart, resets, bombs, prototype keys,
                    headers, paths, forged, replays, every family)
  --scale K         multiply body, depth and width sizes by K (default 1)
  --time-limit S    stop each property (and its shrinking) after S seconds (default 1800)
  --rss-mb MB       the gateway's RSS bound (default 512)
  --debug           print the timing of every run`;

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '200' },
    seed: { type: 'string' },
    only: { type: 'string', default: '' },
    scale: { type: 'string', default: '1' },
    'time-limit': { type: 'string', default: '1800' },
    'rss-mb': { type: 'string', default: '512' },
    debug: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
for (const k of ['runs', 'scale', 'time-limit', 'rss-mb'] as const) {
  if (!/^\d+$/.test(values[k])) {
    console.error(`--${k} takes a positive integer\n\n${USAGE}`);
    process.exit(2);
  }
}
const seed = values.seed ?? String(Math.floor(Math.random() * 2 ** 31));
if (!/^\d+$/.test(seed)) {
  console.error(`--seed takes an integer\n\n${USAGE}`);
  process.exit(2);
}
console.log(
  `fuzz: ${values.runs} runs per property, seed ${seed}, scale ${values.scale}${values.only ? `, only '${values.only}'` : ''}`,
);

const env = {
  ...process.env,
  FUZZ_RUNS: values.runs,
  FUZZ_SEED: seed,
  FUZZ_SCALE: values.scale,
  FUZZ_TIME_LIMIT_S: values['time-limit'],
  FUZZ_RSS_MB: values['rss-mb'],
  FUZZ_ONLY: values.only,
  ...(values.debug && { FUZZ_DEBUG: '1' }),
};
// why: mocha's own timeout is set per property from the time limit; --bail is not used, so every family reports.
const result = spawnSync('npx', ['mocha', 'test/adversarial/adversarial.test.ts'], {
  stdio: 'inherit',
  env,
});
process.exit(result.status ?? 1);
