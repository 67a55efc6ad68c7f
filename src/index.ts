/**
 * studyhook's public API for plugin authors and embedders:
 * `import { defineSink, PermanentError, type Sink } from 'studyhook'`.
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
export type { Adapter, RouteSpec, EventDraft, IncomingRequest, Reply, Verifier } from './adapter/types.js';
export { StudyhookError, errorCodes } from './errors.js';
export { loadConfig } from './config/load-config.js';
export { createGateway } from './gateway.js';
export type { ProlificClient, SubmissionTransition, RejectionCategory } from '../adapters/prolific/client.js';
export { ProlificApiError } from '../adapters/prolific/client.js';
export { isStale } from '../adapters/prolific/ordering.js';
export type { SensorLoggerClient } from '../adapters/sensorlogger/client.js';
export type { ActiGraphClient } from '../adapters/actigraph/client.js';
export { ActiGraphApiError } from '../adapters/actigraph/client.js';
