// Loaded through .mocharc.json's `require`, in the main mocha process and (for the root hooks) in
// each worker of a parallel run. The rules that let test files run side by side: test/README.md.
import { buildIsFresh } from './studyhook-cli.js';
import { removeRunKeys, runTag } from './test-run.js';

/** Once per run, before any test; the variables reach parallel workers and spawned processes. */
export function mochaGlobalSetup(): void {
  runTag();
  process.env['STUDYHOOK_TEST_BUILT'] ??= buildIsFresh() ? '1' : '0';
  if (process.env['STUDYHOOK_TEST_BUILT'] !== '1')
    console.log(
      'dist/ is missing or older than the sources: test processes run src/ through tsx (`npm run build` first makes them start faster)',
    );
}

/** Once per run, after every test: the keys of all the run's prefixes, in one scan. */
export async function mochaGlobalTeardown(): Promise<void> {
  await removeRunKeys();
}

export const mochaHooks = {
  // why: in a parallel run a worker runs many files in one process; each file's S3 server is its own.
  async afterAll(): Promise<void> {
    await (await import('./test-blobs.js')).closeTestS3();
  },
};
