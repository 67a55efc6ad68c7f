import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const child = fileURLToPath(new URL('./helpers/reclaim-child.ts', import.meta.url));

describe('upload memory: Reclaimer', () => {
  it('frees finished body chunks once an upload passed RECLAIM_EVERY_BYTES, not before', () => {
    const out = execFileSync(
      process.execPath,
      [
        '--min-semi-space-size=16',
        '--no-concurrent-array-buffer-sweeping',
        '--import',
        'tsx',
        child,
      ],
      { encoding: 'utf8' },
    );
    const rounds = JSON.parse(out) as { before: number; oneShort: number; after: number }[];
    assert.equal(rounds.length, 2);
    for (const [i, r] of rounds.entries()) {
      const at = `round ${i + 1}: ${JSON.stringify(r)}`;
      assert.ok(r.before >= 12, `the dropped chunks are held before: ${at}`);
      assert.ok(r.oneShort > r.before - 0.5, `one byte short, nothing is collected: ${at}`);
      assert.ok(r.after < 1, `collected after the last byte: ${at}`);
    }
  });
});
