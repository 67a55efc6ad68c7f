import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

export const root = new URL('../../', import.meta.url).pathname;
// why an absolute loader: `--import tsx` resolves from the child's cwd, which may be a temp dir.
const tsxLoader = import.meta.resolve('tsx');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sources(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/**
 * True when `npm run build` output exists for every source file of src/ and adapters/ and is not
 * older than it: then the build is what the sources say, and a process can run it.
 */
export function buildIsFresh(): boolean {
  return ['src', 'adapters'].every((top) =>
    sources(join(root, top)).every((ts) => {
      const js = join(root, 'dist', relative(root, ts)).replace(/\.ts$/, '.js');
      try {
        return statSync(js).mtimeMs >= statSync(ts).mtimeMs;
      } catch {
        return false;
      }
    }),
  );
}

/**
 * The node arguments that run `studyhook` in a test's child process: the build when the global
 * setup found it fresh (STUDYHOOK_TEST_BUILT=1; CI builds before it tests), else the sources through
 * tsx. why: a process started from the build is ready in about half the CPU time, and the suite
 * starts dozens of them; a stale build is never run, so a test always checks the sources as they are.
 */
export function studyhookArgs(): string[] {
  return process.env['STUDYHOOK_TEST_BUILT'] === '1'
    ? [join(root, 'dist', 'src', 'cli.js')]
    : ['--import', tsxLoader, join(root, 'src', 'cli.ts')];
}
