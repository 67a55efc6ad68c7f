/** `import { ActiGraphApiError, type ActiGraphClient } from 'studyhook/actigraph'`: the types and errors of `ctx.clients.actigraph`, for sink authors. */
export type { ActiGraphClient, EpochRequest, RawRequest, UploadRef } from './client.js';
export { ActiGraphApiError } from './client.js';
