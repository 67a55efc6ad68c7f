import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import {
  budgetOf,
  createBlobStore,
  sweepPartialBlobs,
  type FsBlobStore,
} from '../src/blobs/blob-store.js';

const MB = 1024 * 1024;

/** `size` bytes in `chunk`-sized pieces, every piece different, as a stream that yields to the event loop between pieces. */
function source(
  size: number,
  seed: number,
  chunk = 256 * 1024,
): { stream: Readable; sha256: string } {
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
  return (await readdir(dir, { recursive: true, withFileTypes: true }))
    .filter((e) => e.isFile())
    .map((e) => e.name);
}

describe('blob store', () => {
  let dir: string;
  let store: FsBlobStore;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'studyhook-blobs-'));
    store = createBlobStore(dir);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('gives each of several files written at once its own size and sha256, and stores the bytes', async () => {
    // why: 24 MiB each: a dozen writev batches per file, interleaved between the three.
    const inputs = [0, 1, 2].map((i) => source(24 * MB + i * 4097, i));
    const refs = await Promise.all(
      inputs.map((s, i) =>
        store.put(s.stream, { name: `f${i}.bin`, contentType: 'application/octet-stream' }),
      ),
    );
    for (const [i, ref] of refs.entries()) {
      assert.equal(ref.size, 24 * MB + i * 4097);
      assert.equal(ref.sha256, inputs[i]!.sha256);
      assert.equal(
        createHash('sha256')
          .update(await readFile(store.path(ref)))
          .digest('hex'),
        inputs[i]!.sha256,
      );
    }
  });

  it('hashes an empty file as sha256 of nothing', async () => {
    const ref = await store.put(Readable.from([]), { name: 'empty', contentType: 'text/plain' });
    assert.equal(ref.size, 0);
    assert.equal(ref.sha256, 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });

  it('leaves nothing behind when the source fails or the file is too large, and the next file still hashes right', async () => {
    let n = 0;
    const failing = new Readable({
      read() {
        if (++n > 4) this.destroy(new Error('connection reset'));
        else this.push(randomBytes(MB));
      },
    });
    await assert.rejects(
      store.put(failing, { name: 'cut', contentType: 'application/octet-stream' }),
      /connection reset/,
    );
    await assert.rejects(
      store.put(source(5 * MB, 7).stream, {
        name: 'big',
        contentType: 'application/octet-stream',
        maxBytes: 4 * MB,
      }),
      (err: Error & { code?: string }) => err.code === 'SH_BLOB_TOO_LARGE',
    );
    assert.deepEqual(await files(dir), []);
    const ok = source(3 * MB, 8);
    const ref = await store.put(ok.stream, { name: 'ok', contentType: 'application/octet-stream' });
    assert.equal(ref.sha256, ok.sha256);
  });

  it('handles the error of a source that fails before its file exists, and leaves nothing behind', async () => {
    // why: busboy fails a file stream in the same tick it emits it (a form cut off after a file part's header);
    // an error listener attached only after the file is opened came too late and the process crashed.
    const cut = new PassThrough();
    const put = store.put(cut, { name: 'cut', contentType: 'video/webm' });
    cut.destroy(new Error('Unexpected end of form'));
    await assert.rejects(put, /Unexpected end of form/);
    const written = new PassThrough();
    const late = store.put(written, { name: 'late', contentType: 'video/webm' });
    written.write(randomBytes(1024));
    setImmediate(() => written.destroy(new Error('connection reset')));
    await assert.rejects(late, /connection reset/);
    assert.deepEqual(await files(dir), []);
  });

  it('shares one byte budget between the files of a request', async () => {
    const budget = budgetOf(5 * MB);
    const first = await store.put(source(3 * MB, 1).stream, {
      name: 'a',
      contentType: 'application/octet-stream',
      budget,
    });
    assert.equal(first.size, 3 * MB);
    await assert.rejects(
      store.put(source(3 * MB, 2).stream, {
        name: 'b',
        contentType: 'application/octet-stream',
        budget,
      }),
      (err: Error & { code?: string }) =>
        err.code === 'SH_BLOB_TOO_LARGE' && /5242880/.test(err.message),
    );
    assert.deepEqual(await files(dir), [first.id]);
  });

  it("sweeps the partial files of dead writers on this host, and keeps live writers' and other hosts'", async () => {
    const host = hostname().replace(/[^A-Za-z0-9_.-]/g, '_');
    const incoming = join(dir, 'incoming');
    await mkdir(incoming, { recursive: true });
    const dead = 2 ** 22 + 12345; // above Linux's pid_max default: no such process
    const names = {
      dead: `11111111-1111-4111-8111-111111111111.${host}-${dead}.part`,
      predecessor: `22222222-2222-4222-8222-222222222222.${host}-${process.pid}.part`,
      live: `33333333-3333-4333-8333-333333333333.${host}-${process.ppid}.part`,
      otherHost: `44444444-4444-4444-8444-444444444444.elsewhere-${dead}.part`,
    };
    for (const n of Object.values(names)) await writeFile(join(incoming, n), 'partial');
    const kept = await store.put(source(1024, 3).stream, {
      name: 'done',
      contentType: 'text/plain',
    });
    assert.deepEqual((await sweepPartialBlobs(dir)).sort(), [names.dead, names.predecessor].sort());
    assert.deepEqual((await files(dir)).sort(), [kept.id, names.live, names.otherHost].sort());
  });
});
