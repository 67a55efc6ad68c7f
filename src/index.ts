/**
 * studyhook's public API for plugin authors and embedders:
 * `import { defineSink, PermanentError, type Sink } from 'studyhook'`. A platform's API client types
 * and errors come from its own subpath: `studyhook/prolific`, `studyhook/actigraph`,
 * `studyhook/sensorlogger`, `studyhook/mydatahelps` (adapters/<platform>/public.ts).
 */
export { defineSink } from './sinks/types.js';
export { PermanentError } from './errors.js';
export type { Sink, SinkContext, DeliveryContext } from './sinks/types.js';
export { createBatcher } from './sinks/create-batcher.js';
export type { Batcher, BatcherOptions } from './sinks/create-batcher.js';
export type { StudyhookEvent } from './generated/event.js';
export type { FileRef } from './generated/file-ref.js';
export type { StudyhookConfig, SinkConfig, EventFilter } from './generated/config.js';
export type { BlobStore } from './blobs/blob-store.js';
export { defineAdapter } from './adapter/types.js';
export type {
  Adapter,
  RouteSpec,
  EventDraft,
  IncomingRequest,
  Reply,
  Verifier,
  Verified,
} from './adapter/types.js';
export type { PlatformSample, SampleOptions, SampleRequest } from './adapter/sample.js';
export { StudyhookError, errorCodes } from './errors.js';
export { loadConfig } from './config/load-config.js';
export { createGateway } from './gateway.js';
