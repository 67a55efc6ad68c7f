import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

type Gc = (options: { type: 'minor'; execution: 'sync' }) => void;
let gc: Gc | null | undefined;

/**
 * V8's own `gc` function, made reachable once; null where this Node cannot give it (an upload then
 * goes on without it: this only lowers memory, nothing depends on it).
 */
function minorGc(): Gc | null {
  if (gc === undefined) {
    try {
      setFlagsFromString('--expose-gc');
      const found: unknown = runInNewContext('typeof gc === "function" ? gc : null');
      gc = typeof found === 'function' ? (found as Gc) : null;
    } catch {
      gc = null;
    }
  }
  return gc;
}

/** Bytes of an upload between two collections of V8's young generation. */
export const RECLAIM_EVERY_BYTES = 4 * 1024 * 1024;

/**
 * Counts an upload's bytes and collects V8's young generation after every
 * {@link RECLAIM_EVERY_BYTES}.
 * why: each chunk of a request body is a 64 KiB buffer outside V8's heap that is freed only when
 * the small object pointing at it is collected; an upload makes those objects so slowly that V8
 * collected them about every 30 MB of body, which the process held resident at its peak. A young
 * collection every few MiB frees them while the memory is still warm for the next reads; ingest
 * requests never come here.
 */
export class Reclaimer {
  private since = 0;

  add(bytes: number): void {
    this.since += bytes;
    if (this.since < RECLAIM_EVERY_BYTES) return;
    this.since = 0;
    minorGc()?.({ type: 'minor', execution: 'sync' });
  }
}
