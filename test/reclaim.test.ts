import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const child = fileURLToPath(new URL('./helpers/reclaim-child.ts', import.meta.url));

interface Seen {
  rounds: { before: number; oneShort: number; after: number }[];
  stores: Record<string, { before: number; after: number }>;
}

describe('upload memory: Reclaimer', () => {
  let seen: Seen;
  before(function () {
    this.timeout(30000);
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
    seen = JSON.parse(out) as Seen;
  });

  it('frees finished body chunks once an upload passed RECLAIM_EVERY_BYTES, not before', () => {
    assert.equal(seen.rounds.length, 2);
    for (const [i, r] of seen.rounds.entries()) {
      const at = `round ${i + 1}: ${JSON.stringify(r)}`;
      assert.ok(r.before >= 12, `the dropped chunks are held before: ${at}`);
      assert.ok(r.oneShort > r.before - 0.5, `one byte short, nothing is collected: ${at}`);
      assert.ok(r.after < 1, `collected after the last byte: ${at}`);
    }
  });

  it('is driven by both stores: the S3 store hashing (HashCounter) and the filesystem store (BlobFile)', () => {
    assert.deepEqual(Object.keys(seen.stores), ['HashCounter', 'BlobFile']);
    for (const [name, s] of Object.entries(seen.stores)) {
      assert.ok(
        s.before >= 12,
        `${name}: the dropped chunks are held before: ${JSON.stringify(s)}`,
      );
      assert.ok(
        s.after < 1,
        `${name}: collected once RECLAIM_EVERY_BYTES went through: ${JSON.stringify(s)}`,
      );
    }
  });
});
