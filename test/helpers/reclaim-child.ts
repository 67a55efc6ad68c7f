// Run by test/reclaim.test.ts in a process of its own, with two V8 flags that make what it sees
// depend on the Reclaimer alone: a young generation large from the start (--min-semi-space-size;
// in the test runner's process it began small, was collected every few hundred kB, and some chunks
// were promoted while the socket still held them, out of a young collection's reach), and buffers
// freed within the collection (--no-concurrent-array-buffer-sweeping; V8 otherwise frees them on a
// background thread, once more than 50 turns of the event loop later). Prints what was held, in
// MB, at each step of two rounds of the Reclaimer alone, then before and after RECLAIM_EVERY_BYTES
// went through each store's hashing step (HashCounter for S3, BlobFile for the filesystem).
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { BlobFile } from '../../src/blobs/blob-file.js';
import { HashCounter } from '../../src/blobs/hash-counter.js';
import { Reclaimer, RECLAIM_EVERY_BYTES } from '../../src/util/reclaim.js';

const tick = () => new Promise((r) => setImmediate(r));
const heldMb = () => process.memoryUsage().arrayBuffers / 1048576;

/** 12.5 MB read from a loopback socket and dropped, as an upload's chunks once hashed and copied. */
async function deadChunks(): Promise<void> {
  const server = createServer((s) => s.on('data', () => undefined).on('end', () => s.end()));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  // why one 64 KiB buffer sent 200 times: a single 12.5 MB one would stay until a major collection.
  const piece = Buffer.alloc(65536, 1);
  for (let i = 0; i < 200; i++) client.write(piece);
  client.end();
  client.resume();
  await once(client, 'close');
  server.close();
  await once(server, 'close');
  await tick();
}

const r = new Reclaimer();
const rounds = [];
for (let round = 0; round < 2; round++) {
  await deadChunks();
  const before = heldMb();
  r.add(RECLAIM_EVERY_BYTES - 1);
  const oneShort = heldMb();
  r.add(1);
  rounds.push({ before, oneShort, after: heldMb() });
}

/** RECLAIM_EVERY_BYTES from one 64 KiB buffer sent again and again, so it leaves no garbage of its own. */
function threshold(): Readable {
  const piece = Buffer.alloc(65536, 2);
  let sent = 0;
  return new Readable({
    read() {
      this.push(sent < RECLAIM_EVERY_BYTES ? piece : null);
      sent += piece.length;
    },
  });
}

const budget = () => ({ total: Number.POSITIVE_INFINITY, left: Number.POSITIVE_INFINITY });
const dir = await mkdtemp(join(tmpdir(), 'studyhook-reclaim-'));
const stores: Record<string, { before: number; after: number }> = {};
const steps: [string, () => Writable][] = [
  ['HashCounter', () => new HashCounter(budget()).resume()],
  ['BlobFile', () => new BlobFile(join(dir, 'blob'), budget())],
];
try {
  for (const [name, make] of steps) {
    await deadChunks();
    const before = heldMb();
    await pipeline(threshold(), make());
    stores[name] = { before, after: heldMb() };
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify({ rounds, stores }));
