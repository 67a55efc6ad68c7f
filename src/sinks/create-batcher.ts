/** How a {@link createBatcher} gathers items and writes them. */
export interface BatcherOptions<T> {
  /**
   * Writes one batch; resolve only once every item is durable (committed, fsync'd). Throwing fails the
   * batch. To fail some items only, return an array with an error at their index (undefined elsewhere).
   */
  write(items: T[]): Promise<void | ReadonlyArray<Error | undefined>>;
  /** Most items per write (default 100). */
  maxSize?: number;
  /**
   * How long the first item of a batch may wait for others while a write could start (default 0: only
   * the items added in the same turn of the event loop). Items added while every write is busy wait
   * for a free one anyway and go together: the batch grows with the load, not with this wait.
   */
  maxWaitMs?: number;
  /** Writes in flight at once (default 1; e.g. a connection pool's size). */
  concurrency?: number;
  /**
   * When a batch of several items fails, write each item alone, so that only the items that fail on
   * their own fail (default true). False, or a function of the batch's error returning false, when a
   * failure cannot be one item's fault (a full disk, a lost connection): the whole batch then fails.
   */
  oneByOne?: boolean | ((err: unknown) => boolean);
}

/** Gathers concurrent deliveries into batches: `await batcher.add(item)` resolves when its batch is written. */
export interface Batcher<T> {
  /** Queues an item; resolves once the write that holds it succeeded, rejects with its error. */
  add(item: T): Promise<void>;
  /** Writes what is queued at once and waits for every write in flight; later `add`s reject. */
  close(): Promise<void>;
}

interface Pending<T> {
  item: T;
  resolve: () => void;
  reject: (err: unknown) => void;
}

/** `observe(size)`: called for every write, with its number of items (the sink metrics count batches with it). */
export function createBatcher<T>(
  opts: BatcherOptions<T>,
  observe?: (size: number) => void,
): Batcher<T> {
  const maxSize = Math.max(1, opts.maxSize ?? 100);
  const maxWaitMs = Math.max(0, opts.maxWaitMs ?? 0);
  const concurrency = Math.max(1, opts.concurrency ?? 1);
  const oneByOne = opts.oneByOne ?? true;
  let pending: Pending<T>[] = [];
  let inFlight = 0;
  // why: set once the first queued item has waited its maxWaitMs; stays set until the queue is empty,
  // so that what piled up behind busy writes goes as soon as a write is free.
  let ready = false;
  let timer: NodeJS.Timeout | NodeJS.Immediate | undefined;
  let closing = false;
  let idle: (() => void) | undefined;

  async function writeAll(batch: Pending<T>[]): Promise<void> {
    observe?.(batch.length);
    const failures = await opts.write(batch.map((p) => p.item));
    batch.forEach((p, i) => {
      const err = failures?.[i];
      if (err) p.reject(err);
      else p.resolve();
    });
  }

  async function run(batch: Pending<T>[]): Promise<void> {
    try {
      await writeAll(batch);
    } catch (err) {
      if (batch.length === 1 || !(typeof oneByOne === 'function' ? oneByOne(err) : oneByOne)) {
        for (const p of batch) p.reject(err);
        return;
      }
      // why: one bad item (a row that breaks a constraint) must not fail its neighbours.
      for (const p of batch) await writeAll([p]).catch((e: unknown) => p.reject(e));
    }
  }

  function pump(): void {
    while (
      inFlight < concurrency &&
      pending.length > 0 &&
      (ready || closing || pending.length >= maxSize)
    ) {
      const batch = pending.slice(0, maxSize);
      pending = pending.slice(maxSize);
      inFlight++;
      void run(batch).finally(() => {
        inFlight--;
        pump();
      });
    }
    if (pending.length === 0) {
      ready = false;
      if (timer) {
        clearTimeout(timer as NodeJS.Timeout);
        clearImmediate(timer as NodeJS.Immediate);
        timer = undefined;
      }
      if (inFlight === 0) idle?.();
    } else if (!ready && !timer) {
      const fire = (): void => {
        timer = undefined;
        ready = true;
        pump();
      };
      timer = maxWaitMs > 0 ? setTimeout(fire, maxWaitMs) : setImmediate(fire);
    }
  }

  return {
    add(item) {
      if (closing) return Promise.reject(new Error('the batcher is closed'));
      return new Promise<void>((resolve, reject) => {
        pending.push({ item, resolve, reject });
        pump();
      });
    },
    close() {
      closing = true;
      return new Promise<void>((resolve) => {
        idle = resolve;
        pump();
      });
    },
  };
}
