/**
 * Bytes of part buffers that the uploads of one S3 store may hold together beyond the first buffer
 * of each (`blobs.sharedBufferBytes`).
 * why: an upload holds up to queueSize + 1 part buffers while S3 takes its parts, so a slow store
 * with many uploads at once grew the process by 25 MiB per upload (40 uploads of 30 MiB: 1.2 GB).
 * Past the budget an upload sends one part at a time (its reading pauses until S3 has taken the
 * part), so memory is at most one part per upload plus the budget.
 * why the first buffer needs no budget: every upload can then always go on, and a small file, which
 * fills a fraction of one (only the pages written are resident), never waits for large ones.
 */
export class PartBudget {
  private used = 0;
  private readonly wakers = new Set<() => void>();
  /** Uploads waiting now for a part buffer: one of theirs to come back from S3, or room here. */
  waiting = 0;
  /** Wake-ups registered now (one per upload waiting for room). */
  get sleepers(): number {
    return this.wakers.size;
  }

  constructor(readonly bytes: number) {}

  /** Takes `n` bytes if they fit. */
  take(n: number): boolean {
    if (this.used + n > this.bytes) return false;
    this.used += n;
    return true;
  }

  /** Gives back `n` bytes taken before, and wakes the uploads waiting for room. */
  give(n: number): void {
    if (n === 0) return;
    this.used -= n;
    const wake = [...this.wakers];
    this.wakers.clear();
    for (const w of wake) w();
  }

  /**
   * Resolves the next time bytes are given back, or when one of `others` settles.
   * why the wake-up is removed either way: an upload woken by its own part registers again on its
   * next wait, and with a budget smaller than a part nothing is ever given back, so the wake-ups
   * of every part of every upload were kept for the life of the process.
   */
  async freedOr(others: Iterable<Promise<unknown>>): Promise<void> {
    let wake!: () => void;
    const freed = new Promise<void>((resolve) => (wake = resolve));
    this.wakers.add(wake);
    try {
      await Promise.race([...others, freed]);
    } finally {
      this.wakers.delete(wake);
    }
  }
}
