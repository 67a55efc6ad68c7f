import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createBlobStore, type BlobStore } from '../src/blobs/blob-store.js';

const MB = 1024 * 1024;

/** `size` bytes in `chunk`-sized pieces, every piece different, as a stream that yields to the event loop between pieces. */
function source(size: number, seed: number, chunk = 256 * 1024): { stream: Readable; sha256: string } {
  const hash = createHash('sha256');
  const parts: Buffer[] = [];
  for (let at = 0; at < size; at += chunk) {
    const part = randomBytes(Math.min(chunk, size - at));
    part.writeUInt32LE(seed, 0);
    hash.update(part);
    parts.push(part);
  }
  return { stream: Readable.from(parts), sha256: hash.digest('hex') };
}

/** Every file under `dir` (finished blobs and `.part` files alike). */
async function files(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
}

describe('blob store', () => {
  let dir: string;
  let store: BlobStore;
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'studyhook-blobs-')); store = createBlobStore(dir); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });

  it('gives each of several files written at once its own size and sha256, and stores the bytes', async () => {
    // why: 24 MiB each: a dozen writev batches per file, interleaved between the three.
    const inputs = [0, 1, 2].map((i) => source(24 * MB + i * 4097, i));
    const refs = await Promise.all(inputs.map((s, i) => store.put(s.stream, { name: `f${i}.bin`, contentType: 'application/octet-stream' })));
    for (const [i, ref] of refs.entries()) {
      assert.equal(ref.size, 24 * MB + i * 4097);
      assert.equal(ref.sha256, inputs[i]!.sha256);
      assert.equal(createHash('sha256').update(await readFile(store.path(ref))).digest('hex'), inputs[i]!.sha256);
    }
  });

  it('hashes an empty file as sha256 of nothing', async () => {
    const ref = await store.put(Readable.from([]), { name: 'empty', contentType: 'text/plain' });
    assert.equal(ref.size, 0);
    assert.equal(ref.sha256, 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('leaves nothing behind when the source fails or the file is too large, and the next file still hashes right', async () => {
    let n = 0;
    const failing = new Readable({ read() { if (++n > 4) this.destroy(new Error('connection reset')); else this.push(randomBytes(MB)); } });
    await assert.rejects(store.put(failing, { name: 'cut', contentType: 'application/octet-stream' }), /connection reset/);
    await assert.rejects(store.put(source(5 * MB, 7).stream, { name: 'big', contentType: 'application/octet-stream', maxBytes: 4 * MB }), (err: Error & { code?: string }) => err.code === 'SH_BLOB_TOO_LARGE');
    assert.deepEqual(await files(dir), []);
    const ok = source(3 * MB, 8);
    const ref = await store.put(ok.stream, { name: 'ok', contentType: 'application/octet-stream' });
    assert.equal(ref.sha256, ok.sha256);
  });
});
