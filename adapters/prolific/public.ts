/**
 * `import { ProlificApiError, type ProlificClient } from 'studyhook/prolific'`: the types and errors
 * of `ctx.clients.prolific`, for sink authors.
 */
export type {
  ProlificClient,
  ProlificDelivery,
  ProlificSubmission,
  ProlificSubscription,
  RejectionCategory,
  SubmissionTransition,
} from './client.js';
export { ProlificApiError } from './client.js';
export { isStale, type StalenessOptions } from './ordering.js';
