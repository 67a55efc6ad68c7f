import { Worker } from 'node:worker_threads';

/** Bytes of one file posted to the hashing thread and not yet hashed, above which the writer waits. */
const MAX_PENDING_BYTES = 8 * 1024 * 1024;

// why: eval'd, so the same code runs from src/ (tsx) and dist/ alike; it is small and has no imports of ours.
const CODE = `
const { parentPort } = require('node:worker_threads');
const { createHash } = require('node:crypto');
const open = new Map();
parentPort.on('message', (m) => {
  let h = open.get(m.id);
  if (!h) { h = createHash('sha256'); open.set(m.id, h); }
  if (m.chunk) { h.update(m.chunk); parentPort.postMessage({ id: m.id, hashed: m.chunk.byteLength }); return; }
  open.delete(m.id);
  if (m.end) parentPort.postMessage({ id: m.id, digest: h.digest('hex') });
});`;

interface Pending { hashed(bytes: number): void; digest(hex: string): void; fail(err: Error): void }

let worker: Worker | undefined;
let nextId = 0;
const files = new Map<number, Pending>();

// why: the thread keeps the process alive only while a file is open, so that a digest still on its way is
// awaited (a pending promise alone would not hold the event loop), and an idle thread never blocks an exit.
function track(id: number, f: Pending): void {
  files.set(id, f);
  if (files.size === 1) thread().ref();
}

function forget(id: number): boolean {
  const had = files.delete(id);
  if (had && files.size === 0) worker?.unref();
  return had;
}

/** The process's one hashing thread, started on first use. */
function thread(): Worker {
  if (worker) return worker;
  const w = new Worker(CODE, { eval: true, name: 'studyhook-sha256' });
  w.on('message', (m: { id: number; hashed?: number; digest?: string }) => {
    const f = files.get(m.id);
    if (m.digest !== undefined) { forget(m.id); f?.digest(m.digest); } else f?.hashed(m.hashed ?? 0);
  });
  // why: a thread that died takes every open hash with it; those files fail (nothing is acknowledged) and the next file starts a new thread.
  const lost = (err: Error): void => {
    if (worker === w) worker = undefined;
    for (const [id, f] of files) { forget(id); f.fail(err); }
  };
  w.on('error', lost);
  w.on('exit', (code) => lost(new Error(`the sha256 thread exited (code ${code})`)));
  worker = w;
  return w;
}

/**
 * A sha256 computed on a separate thread, so that hashing a large upload (about 1 s of CPU per
 * GiB here) leaves the event loop free for other requests and for the next bytes of the same one.
 * Chunks are copied (the caller's buffers are still being written to disk); at most
 * {@link MAX_PENDING_BYTES} per file wait in the thread, so memory stays bounded however fast bytes arrive.
 */
export class ThreadHash {
  private readonly id = nextId++;
  private pending = 0;
  private waiting: (() => void) | undefined;
  private failure: Error | undefined;
  private result: Promise<string>;
  private settle!: { resolve(hex: string): void; reject(err: Error): void };

  constructor() {
    this.result = new Promise((resolve, reject) => { this.settle = { resolve, reject }; });
    this.result.catch(() => undefined); // why: observed through digest(); a file aborted early never asks
    track(this.id, {
      hashed: (bytes) => { this.pending -= bytes; if (this.pending <= MAX_PENDING_BYTES) this.wake(); },
      digest: (hex) => this.settle.resolve(hex),
      fail: (err) => { this.failure = err; this.settle.reject(err); this.wake(); },
    });
  }

  /** Queues the bytes; resolves when the thread has room for more (rejects if it died). */
  update(buffers: readonly Buffer[]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const size = buffers.reduce((n, b) => n + b.length, 0);
    if (size === 0) return Promise.resolve();
    const copy = new Uint8Array(size);
    let at = 0;
    for (const b of buffers) { copy.set(b, at); at += b.length; }
    this.pending += size;
    thread().postMessage({ id: this.id, chunk: copy }, [copy.buffer]);
    if (this.pending <= MAX_PENDING_BYTES) return Promise.resolve();
    return new Promise((resolve, reject) => { this.waiting = () => (this.failure ? reject(this.failure) : resolve()); });
  }

  /** The hex digest of everything updated, once the thread has hashed it all. */
  digest(): Promise<string> {
    if (!this.failure) thread().postMessage({ id: this.id, end: true });
    return this.result;
  }

  /** Forgets the file (on error): the thread drops its state. */
  abort(): void {
    if (!forget(this.id) || this.failure) return;
    worker?.postMessage({ id: this.id, end: false });
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }
}
