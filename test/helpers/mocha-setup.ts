// Loaded through .mocharc.json's `require`, in the main mocha process and (for the root hooks) in
// each worker of a parallel run. The rules that let test files run side by side: test/README.md.
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { buildIsFresh } from './studyhook-cli.js';
import { removeRunKeys, runTag } from './test-run.js';

/** Once per run, before any test; the variables reach parallel workers and spawned processes. */
export function mochaGlobalSetup(): void {
  runTag();
  // why: every temporary file of the run (tests' mkdtemp, spawned CLIs, `sample --print curl`'s
  // body file, browsers) goes under one directory, removed at the end: nothing is left in /tmp,
  // whichever test forgot to clean up or was killed before it could.
  if (process.env['STUDYHOOK_TEST_TMP'] === undefined) {
    const run = mkdtempSync(join(tmpdir(), 'studyhook-run-'));
    // why: tsx keeps its compile cache in <tmpdir>/tsx-<uid>; the run's processes share the usual one.
    const tsxCache = `tsx-${userInfo().uid}`;
    mkdirSync(join(tmpdir(), tsxCache), { recursive: true });
    symlinkSync(join(tmpdir(), tsxCache), join(run, tsxCache));
    process.env['STUDYHOOK_TEST_TMP'] = run;
  }
  process.env['TMPDIR'] = process.env['STUDYHOOK_TEST_TMP'];
  process.env['STUDYHOOK_TEST_BUILT'] ??= buildIsFresh() ? '1' : '0';
  if (process.env['STUDYHOOK_TEST_BUILT'] !== '1')
    console.log(
      'dist/ is missing or older than the sources: test processes run src/ through tsx (`npm run build` first makes them start faster)',
    );
}

/** Once per run, after every test: the keys of all the run's prefixes, in one scan, and the run's temporary directory. */
export async function mochaGlobalTeardown(): Promise<void> {
  await removeRunKeys();
  const tmp = process.env['STUDYHOOK_TEST_TMP'];
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}

export const mochaHooks = {
  // why: in a parallel run a worker runs many files in one process; each file's S3 server is its own.
  async afterAll(): Promise<void> {
    await (await import('./test-blobs.js')).closeTestS3();
  },
};
