import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { adapters } from '../adapters/index.js';

describe('studyhook export: the engine and the platforms', () => {
  it('names no platform in src/export: each platform brings its tables and its scan in its adapter', async () => {
    const dir = join(import.meta.dirname, '..', 'src', 'export');
    const names = adapters.map((a) => a.platform);
    const found: string[] = [];
    for (const f of (await readdir(dir)).filter((x) => x.endsWith('.ts'))) {
      const text = (await readFile(join(dir, f), 'utf8')).toLowerCase();
      for (const n of names) if (text.includes(n.toLowerCase())) found.push(`${f}: ${n}`);
    }
    assert.deepEqual(found, []);
    assert.ok(
      adapters.some((a) => a.exportScan),
      'an adapter declares its own export scan',
    );
  });
});
