import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { S3_TEST_ENV, startS3Server, type S3Server } from '../scripts/s3-server.js';
import { createS3BlobStore } from '../src/blobs/s3-blob-store.js';
import { waitFor } from './helpers/gateway.js';
import { s3Proxy } from './helpers/s3-proxy.js';

const MB = 1024 * 1024;
const isPart = (method?: string, url = ''): boolean =>
  method === 'PUT' && /[?&]partNumber=\d+/.test(url);

/** `mb` MiB of one random MiB repeated, as a stream, and the sha256 of those bytes. */
function file(mb: number): { source: () => Readable; sha256: string } {
  const chunk = randomBytes(MB);
  const hash = createHash('sha256');
  for (let i = 0; i < mb; i++) hash.update(chunk);
  return {
    source: () => Readable.from(Array.from({ length: mb }, () => chunk)),
    sha256: hash.digest('hex'),
  };
}

describe('S3 uploads share one budget of part buffers (a slow store, many uploads at once)', function () {
  this.timeout(60000);
  let s3: S3Server;
  let dir: string;
  let open: () => void;
  let held = 0;
  let settings: Parameters<typeof createS3BlobStore>[0];
  let store: ReturnType<typeof createS3BlobStore>;
  let closeProxy: () => Promise<void>;

  beforeEach(async () => {
    Object.assign(process.env, S3_TEST_ENV);
    dir = await mkdtemp(join(tmpdir(), 'studyhook-s3-budget-'));
    s3 = await startS3Server({ dir: join(dir, 's3') });
    held = 0;
    // The store takes no part until the test opens the gate: every part sent is held meanwhile.
    const gate = new Promise<void>((r) => (open = r));
    const proxy = await s3Proxy(s3.endpoint, (req) => {
      if (!isPart(req.method, req.url)) return undefined;
      held += 1;
      return { hold: gate };
    });
    closeProxy = proxy.close;
    settings = {
      bucket: s3.bucket,
      endpoint: proxy.endpoint,
      region: 'us-east-1',
      prefix: 'budget/',
      forcePathStyle: true,
      partSizeBytes: 5 * MB,
      queueSize: 4,
      sharedBufferBytes: 5 * MB,
    };
    store = createS3BlobStore(settings);
  });
  afterEach(async () => {
    open();
    store.client.destroy();
    await closeProxy();
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('holds one part per upload plus the budget while the store is slow, then completes every upload', async () => {
    const f = file(30);
    const puts = [1, 2, 3].map((i) =>
      store.put(f.source(), { name: `big-${i}.bin`, contentType: 'application/octet-stream' }),
    );
    // Each upload has one part in flight of its own, one of them a second from the budget (5 MiB);
    // without the budget each would have queueSize (4) in flight before it waited.
    const seen = await waitFor('every upload to wait for a part buffer, or a fifth part', () =>
      held > 4 || (held === 4 && store.partBudget.waiting === 3) ? held : 0,
    );
    assert.equal(seen, 4, 'parts in flight: 3 uploads × 1 + one from the budget');
    open();
    const refs = await Promise.all(puts);
    for (const r of refs) {
      assert.equal(r.size, 30 * MB);
      assert.equal(r.sha256, f.sha256);
    }
    assert.equal(store.partBudget.waiting, 0);
    // Given back: a whole budget's worth can be taken again.
    assert.ok(store.partBudget.take(5 * MB));
    store.partBudget.give(5 * MB);
  });

  it('lets small files through while large uploads wait for the store (no budget left at all)', async () => {
    store.client.destroy();
    store = createS3BlobStore({ ...settings, sharedBufferBytes: 0 });
    const big = file(12);
    const large = store.put(big.source(), {
      name: 'big.bin',
      contentType: 'application/octet-stream',
    });
    await waitFor('the large upload to wait for its part', () => store.partBudget.waiting === 1);
    const small = file(1);
    const done = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        store.put(small.source(), {
          name: `small-${i}.bin`,
          contentType: 'application/octet-stream',
        }),
      ),
    );
    assert.equal(done.length, 10);
    for (const r of done) assert.equal(r.sha256, small.sha256);
    assert.equal(held, 1, 'the large upload, with no budget, has one part in flight');
    open();
    assert.equal((await large).sha256, big.sha256);
  });

  it('keeps no wake-up of an upload once it no longer waits (a budget smaller than a part is never given back)', async () => {
    store.client.destroy();
    store = createS3BlobStore({ ...settings, sharedBufferBytes: 0 });
    open();
    const f = file(30);
    for (let round = 0; round < 2; round++) {
      const refs = await Promise.all(
        [1, 2].map((i) =>
          store.put(f.source(), { name: `big-${i}.bin`, contentType: 'application/octet-stream' }),
        ),
      );
      for (const r of refs) assert.equal(r.sha256, f.sha256);
    }
    assert.equal(store.partBudget.waiting, 0);
    // Each of the 2 × 2 uploads waited for its one buffer before each of its parts but the first.
    assert.equal(store.partBudget.sleepers, 0, 'wake-ups of uploads that are over');
  });
});
