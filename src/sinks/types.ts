import type { BlobStore } from '../blobs/blob-store.js';
import type { Envelope, StudyhookEvent } from '../event/build-event.js';
import type { EventDraft } from '../event/draft.js';
import type { Logger } from '../log/logger.js';
import { PermanentError } from '../errors.js';
import type { Batcher, BatcherOptions } from './create-batcher.js';

// why: sink authors import PermanentError with the sink contract (here and from 'studyhook'); it lives with the other errors.
export { PermanentError };

/** What a sink gets once, at start-up. */
export interface SinkContext {
  /** The sink's name from the config (also its queue's name). */
  name: string;
  /** A child logger (JSON, secrets redacted). */
  logger: Logger;
  /** Open, read or store files; events carry FileRef objects for attached files. */
  blobs: BlobStore;
  /** studyhook's data directory (the filesystem sink writes under it). */
  dataDir: string;
  /** Mode for files a sink writes under `dataDir` (config `fileMode`, default 0o640). */
  fileMode: number;
  /** Platform API clients keyed by platform (e.g. `ctx.clients.sensorlogger`), when the adapter offers one. */
  clients: Record<string, unknown>;
  /**
   * Gathers concurrent deliveries into batches (one INSERT of many rows, one fsync for many lines):
   * make one in `setup`, `await ctx.state.batcher.add(x)` in `deliver`, close it in `close`. The same
   * as `createBatcher` from 'studyhook', and counted in the sink's metrics (docs/sinks.md).
   */
  createBatcher<T>(opts: BatcherOptions<T>): Batcher<T>;
}

/** What a sink gets with each delivery. */
export interface DeliveryContext<State = unknown> extends SinkContext {
  /** Whatever `setup()` returned. */
  state: State;
  /** The sink's options, after its optionsSchema filled the defaults. */
  options: Record<string, unknown>;
  /** 1 on the first try. */
  attempt: number;
  /** Secret values that came with the event (e.g. `secretCode` of Sensor Logger). Never log them. */
  secrets: Readonly<Record<string, string>>;
  /** The raw request the event came from (secret headers redacted). */
  request: Envelope['request'];
  /** Publishes a follow-up event (same platform and namespace as `from`) to every matching sink. */
  emit(draft: EventDraft, from: StudyhookEvent): Promise<StudyhookEvent>;
  /** The PermanentError class, for single-file sinks that cannot import 'studyhook': `throw new ctx.PermanentError('…')`. */
  PermanentError: typeof PermanentError;
}

/**
 * A sink plugin: the default export of a module. Throw from `deliver` to retry with backoff;
 * throw a {@link PermanentError} to give up at once (the event becomes a dead letter).
 */
export interface Sink<Options = Record<string, unknown>, State = unknown> {
  name: string;
  /** JSON Schema of the options; checked (and defaults filled) at start-up. */
  optionsSchema?: object;
  /** Deliveries in flight per worker process when the config sets no `concurrency` (default 8); a batching sink wants more. */
  concurrency?: number;
  /**
   * False for a sink that never reads `ctx.secrets`: its jobs are then queued without them, so that
   * nothing has to be removed from a delivered job in Redis (a script and a rewrite of the job per
   * event). Honoured for built-in sinks only: the API process does not load sink modules; for a
   * module, its config entry says so (`secrets: false`).
   */
  usesSecrets?: boolean;
  setup?(options: Options, ctx: SinkContext): State | Promise<State>;
  deliver(event: StudyhookEvent, ctx: DeliveryContext<State>): void | Promise<void>;
  close?(state: State): void | Promise<void>;
}

/** Typed identity helper for sink modules: `export default defineSink({...})`. */
export function defineSink<Options = Record<string, unknown>, State = unknown>(
  sink: Sink<Options, State>,
): Sink<Options, State> {
  return sink;
}
