import assert from 'node:assert/strict';
import { appendFileSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { mkdtemp, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBatcher, type BatcherOptions } from '../src/sinks/create-batcher.js';
import { createLineWriter } from '../src/util/line-writer.js';
import { waitFor } from './helpers/gateway.js';

/** This process's open descriptors on files under `dir`. */
function openFiles(dir: string): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      const p = readlinkSync(`/proc/self/fd/${fd}`);
      return p.startsWith(dir) ? [p] : [];
    } catch {
      return [];
    }
  });
}

/** The file's lines; a blank one stays in (as ''), so that the assertions on them see it. */
const lines = (file: string): string[] => {
  const text = readFileSync(file, 'utf8');
  assert.ok(text === '' || text.endsWith('\n'), 'the file ends with a whole line');
  return text === '' ? [] : text.slice(0, -1).split('\n');
};
const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('the archive line writer (group commit)', () => {
  let dir = '';
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'studyhook-lines-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('writes the lines that arrive during a write and fdatasync together, in one batch', async () => {
    const sizes: number[] = [];
    const counting = <T>(o: BatcherOptions<T>) => createBatcher(o, (n) => sizes.push(n));
    const w = createLineWriter({ createBatcher: counting });
    const file = join(dir, 'a', 'b', '2026-01-01.jsonl');
    try {
      const first = w.append(file, '{"n":0}');
      await turn(); // the first line's write has started (mkdir, open, write, fdatasync)
      const rest = Array.from({ length: 50 }, (_, i) => w.append(file, `{"n":${i + 1}}`));
      await Promise.all([first, ...rest]);
      assert.deepEqual(sizes, [1, 50]);
      assert.deepEqual(
        lines(file).map((l) => (JSON.parse(l) as { n: number }).n),
        Array.from({ length: 51 }, (_, i) => i),
      );
      assert.equal((statSync(file).mode & 0o777).toString(8), '640');
    } finally {
      await w.close();
    }
  });

  it('keeps one handle per file, closes it after idleMs without a line, and closes all at close()', async function () {
    this.timeout(10000);
    const w = createLineWriter({ idleMs: 100 });
    const [a, b] = [join(dir, 'x', '2026-01-01.jsonl'), join(dir, 'x', '2026-01-02.jsonl')];
    try {
      for (let i = 0; i < 5; i++) await w.append(a, `{"i":${i}}`);
      assert.deepEqual(openFiles(dir), [a], 'one handle for five appends');
      await w.append(b, '{"day":2}');
      assert.deepEqual(openFiles(dir).sort(), [a, b]);
      await waitFor('idle handles to close', () => openFiles(dir).length === 0, 5000);
      await w.append(b, '{"day":2,"again":true}');
      assert.deepEqual(openFiles(dir), [b]);
    } finally {
      await w.close();
    }
    assert.deepEqual(openFiles(dir), []);
    assert.equal(lines(a).length, 5);
    assert.equal(lines(b).length, 2);
  });

  it('keeps at most maxOpen handles over many namespaces', async () => {
    const w = createLineWriter({ maxOpen: 4 });
    try {
      for (let i = 0; i < 20; i++)
        await w.append(join(dir, `ns-${i}`, '2026-01-01.jsonl'), `{"ns":${i}}`);
      assert.ok(openFiles(dir).length <= 4, `open: ${openFiles(dir).length}`);
      for (let i = 0; i < 20; i++)
        assert.deepEqual(lines(join(dir, `ns-${i}`, '2026-01-01.jsonl')), [`{"ns":${i}}`]);
    } finally {
      await w.close();
    }
  });

  it('writes to the file at the path when the open one was moved away', async () => {
    const w = createLineWriter();
    const file = join(dir, 'x', '2026-01-01.jsonl');
    try {
      await w.append(file, '{"n":1}');
      await rename(file, `${file}.old`);
      await w.append(file, '{"n":2}');
      assert.deepEqual(lines(file), ['{"n":2}']);
      assert.deepEqual(lines(`${file}.old`), ['{"n":1}']);
    } finally {
      await w.close();
    }
  });

  it('overwrites with spaces the fragment a crashed writer left, instead of gluing its line to it', async () => {
    const w = createLineWriter();
    const file = join(dir, '2026-01-01.jsonl');
    try {
      await w.append(file, '{"n":1}');
      appendFileSync(file, '{"n":"tor'); // a write cut off mid-line
      await w.append(file, '{"n":2}');
      await w.append(file, '{"n":3}');
      assert.equal(readFileSync(file, 'utf8'), `{"n":1}\n${' '.repeat(9)}{"n":2}\n{"n":3}\n`);
      assert.deepEqual(
        lines(file).map((l) => (JSON.parse(l) as { n: number }).n),
        [1, 2, 3],
      );
    } finally {
      await w.close();
    }
  });
});
