import { STATUS_CODES } from 'node:http';

/** Every error studyhook reports, in one table: a code, an HTTP status and a message. */
export const errorCodes = {
  SH_NOT_FOUND: { status: 404, message: 'No such route' },
  SH_UNKNOWN_PLATFORM: { status: 404, message: 'No adapter serves this platform' },
  SH_UNKNOWN_NAMESPACE: {
    status: 404,
    message: 'This namespace is not configured for the platform',
  },
  SH_METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed on this route' },
  SH_BODY_TOO_LARGE: { status: 413, message: 'Request body is larger than this route accepts' },
  SH_UNSUPPORTED_MEDIA_TYPE: { status: 415, message: 'Content type not accepted on this route' },
  SH_UNAUTHORIZED: { status: 401, message: 'Missing or invalid credentials or signature' },
  SH_FORBIDDEN_ORIGIN: { status: 403, message: 'Origin not allowed for this namespace' },
  SH_BAD_BODY: { status: 400, message: 'Request body could not be parsed' },
  SH_INVALID_PAYLOAD: { status: 422, message: 'Payload does not match the platform schema' },
  SH_QUEUE_UNAVAILABLE: { status: 503, message: 'Event store (Redis) unavailable; retry later' },
  SH_REQUEST_TIMEOUT: { status: 408, message: 'Request took too long to arrive' },
  SH_SPOOL_FULL: {
    status: 503,
    message: 'Event store (Redis) unavailable and the local spool is full; retry later',
  },
  SH_SPOOL_UNWRITABLE: {
    status: 503,
    message:
      'Event store (Redis) unavailable and the local spool cannot be written (disk full?); retry later',
  },
  SH_PUBLISH_FAILED: { status: 500, message: 'The event could not be stored' },
  SH_RATE_LIMITED: { status: 429, message: 'Too many requests from this client; retry later' },
  SH_BUSY: { status: 503, message: 'Too many request bodies in flight; retry later' },
  SH_INTERNAL: { status: 500, message: 'Internal error' },
  SH_CONFIG_INVALID: { status: 500, message: 'Configuration is invalid' },
  SH_CONFIG_NOT_FOUND: { status: 500, message: 'Configuration file not found' },
  SH_SINK_LOAD: { status: 500, message: 'A sink could not be loaded' },
  SH_REDIS_UNREACHABLE: { status: 500, message: 'Redis cannot be reached' },
  SH_SINK_SETUP: { status: 500, message: 'A sink failed to set up' },
  SH_DEPLOYMENT_CONFLICT: { status: 500, message: 'Another deployment uses this Redis prefix' },
  SH_PORT_IN_USE: { status: 500, message: 'The port cannot be listened on' },
  SH_BLOB_TOO_LARGE: { status: 413, message: 'File is larger than this route accepts' },
  SH_GATEWAY_UNREACHABLE: { status: 502, message: 'No gateway answers at this URL' },
  SH_BLOB_STORE_UNAVAILABLE: { status: 503, message: 'File store unavailable; retry later' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof errorCodes;

/** The one error class. `details` is shown to the client (never internals); `cause` is only logged. */
export class StudyhookError extends Error {
  readonly code: ErrorCode;
  readonly statusCode: number;
  readonly details: unknown;
  readonly headers: Record<string, string>;

  constructor(
    code: ErrorCode,
    message?: string,
    opts: { details?: unknown; cause?: unknown; headers?: Record<string, string> } = {},
  ) {
    super(message ?? errorCodes[code].message, { cause: opts.cause });
    this.name = 'StudyhookError';
    this.code = code;
    this.statusCode = errorCodes[code].status;
    this.details = opts.details;
    this.headers = opts.headers ?? {};
  }
}

/** The fixed JSON error body `{statusCode, code, error, message, details?}`. A 500 never echoes internals. */
export function errorBody(err: unknown): {
  statusCode: number;
  code: string;
  error: string;
  message: string;
  details?: unknown;
} {
  const known = err instanceof StudyhookError ? err : new StudyhookError('SH_INTERNAL');
  // why: a 503 tells the sender to come back later, which is what it must know; other 5xx are ours.
  const internal = known.statusCode >= 500 && known.statusCode !== 503;
  const body = {
    statusCode: known.statusCode,
    code: known.code,
    // why: the reason phrase of the table's status, as node:http writes it on the status line.
    error: STATUS_CODES[known.statusCode] ?? 'Error',
    message: internal ? errorCodes.SH_INTERNAL.message : known.message,
  };
  return known.details === undefined || internal ? body : { ...body, details: known.details };
}

/** The reply for an error: its status from the table, its headers, and {@link errorBody}. */
export function errorReply(err: unknown): {
  status: number;
  headers: Record<string, string>;
  body: ReturnType<typeof errorBody>;
} {
  const body = errorBody(err);
  return {
    status: body.statusCode,
    headers: err instanceof StudyhookError ? err.headers : {},
    body,
  };
}

const PERMANENT = Symbol.for('studyhook.permanent-error');

/** Marks a failure that retrying cannot fix (bad data, 4xx from a remote): no more attempts. */
export class PermanentError extends Error {
  constructor(message: string, opts?: { cause?: unknown }) {
    super(message, opts);
    this.name = 'PermanentError';
  }

  // why: a plugin may bring its own copy of studyhook (another node_modules, another loader), so
  // `instanceof` alone would miss its errors; the brand is shared through the global symbol registry.
  readonly [PERMANENT] = true;

  static override [Symbol.hasInstance](value: unknown): boolean {
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[PERMANENT] === true
    );
  }
}
