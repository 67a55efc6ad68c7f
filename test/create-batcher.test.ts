import assert from 'node:assert/strict';
import { createBatcher } from '../src/sinks/create-batcher.js';

/** A promise with its resolve and reject, to hold a write open while the test adds more items. */
function deferred(): { promise: Promise<void>; resolve: () => void; reject: (err: Error) => void } {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const turn = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Settles each promise into 'ok' or its error message, in order. */
const outcomes = (ps: Promise<void>[]): Promise<string[]> =>
  Promise.all(
    ps.map((p) =>
      p.then(
        () => 'ok',
        (e: Error) => e.message,
      ),
    ),
  );

describe('createBatcher', () => {
  it('writes the items added in one turn together, and those added during that write in the next one', async () => {
    const writes: number[][] = [];
    const held = [deferred(), deferred()];
    const b = createBatcher<number>({
      write: (items) => {
        writes.push(items);
        return held[writes.length - 1]!.promise;
      },
    });
    const first = [1, 2, 3].map((n) => b.add(n));
    await turn();
    const second = [4, 5, 6, 7, 8].map((n) => b.add(n));
    await turn();
    assert.deepEqual(
      writes,
      [[1, 2, 3]],
      'one write at a time: the second batch waits for the first',
    );
    held[0]!.resolve();
    await Promise.all(first);
    await turn();
    assert.deepEqual(writes, [
      [1, 2, 3],
      [4, 5, 6, 7, 8],
    ]);
    held[1]!.resolve();
    await Promise.all(second);
  });

  it('resolves an add only once the write that holds it has succeeded', async () => {
    const held = deferred();
    const b = createBatcher<string>({ write: () => held.promise });
    let done = false;
    const p = b.add('x').then(() => {
      done = true;
    });
    for (let i = 0; i < 5; i++) await turn();
    assert.equal(done, false);
    held.resolve();
    await p;
    assert.equal(done, true);
  });

  it('caps each write at maxSize and runs up to `concurrency` writes at once', async () => {
    const writes: number[] = [];
    let inFlight = 0;
    let most = 0;
    const b = createBatcher<number>({
      maxSize: 100,
      concurrency: 2,
      write: async (items) => {
        writes.push(items.length);
        most = Math.max(most, ++inFlight);
        await turn();
        inFlight--;
      },
    });
    await Promise.all(Array.from({ length: 250 }, (_, i) => b.add(i)));
    assert.deepEqual(writes, [100, 100, 50]);
    assert.equal(most, 2);
  });

  it('writes each item of a failed batch alone, so only the item that fails on its own fails', async () => {
    const writes: string[][] = [];
    const b = createBatcher<string>({
      write: async (items) => {
        writes.push(items);
        if (items.includes('bad')) throw new Error(`refused ${items.join(',')}`);
      },
    });
    assert.deepEqual(await outcomes(['a', 'bad', 'c'].map((x) => b.add(x))), [
      'ok',
      'refused bad',
      'ok',
    ]);
    assert.deepEqual(writes, [['a', 'bad', 'c'], ['a'], ['bad'], ['c']]);
  });

  it("fails the whole batch without writing items alone when oneByOne says the error is no one item's fault", async () => {
    const writes: string[][] = [];
    const b = createBatcher<string>({
      oneByOne: (err) => !(err as Error).message.includes('connection'),
      write: async (items) => {
        writes.push(items);
        throw new Error('connection lost');
      },
    });
    assert.deepEqual(await outcomes(['a', 'b'].map((x) => b.add(x))), [
      'connection lost',
      'connection lost',
    ]);
    assert.deepEqual(writes, [['a', 'b']]);
  });

  it('fails only the items a write reports as failed', async () => {
    const b = createBatcher<number>({
      write: async (items) => items.map((n) => (n % 2 ? new Error(`odd ${n}`) : undefined)),
    });
    assert.deepEqual(await outcomes([1, 2, 3, 4].map((n) => b.add(n))), [
      'odd 1',
      'ok',
      'odd 3',
      'ok',
    ]);
  });

  it('lets the first item wait maxWaitMs for others; close() writes what is queued at once and refuses later adds', async () => {
    const writes: string[][] = [];
    const b = createBatcher<string>({
      maxWaitMs: 60000,
      write: async (items) => {
        writes.push(items);
      },
    });
    const a = b.add('a');
    await turn();
    const c = b.add('c');
    await turn();
    assert.deepEqual(writes, [], 'nothing written while the first item may still wait');
    await b.close();
    await Promise.all([a, c]);
    assert.deepEqual(writes, [['a', 'c']]);
    await assert.rejects(b.add('late'), /closed/);
  });

  it('close() waits for a write in flight', async () => {
    const held = deferred();
    const b = createBatcher<string>({ write: () => held.promise });
    const p = b.add('x');
    await turn();
    let closed = false;
    const c = b.close().then(() => {
      closed = true;
    });
    await turn();
    assert.equal(closed, false);
    held.resolve();
    await Promise.all([p, c]);
    assert.equal(closed, true);
  });
});
