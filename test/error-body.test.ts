import assert from 'node:assert/strict';
import {
  errorBody,
  errorCodes,
  errorReply,
  StudyhookError,
  type ErrorCode,
} from '../src/errors.js';

describe('error replies from the error table', () => {
  it("names every code's status with its reason phrase", () => {
    const reasons: Record<number, string> = {
      400: 'Bad Request',
      401: 'Unauthorized',
      403: 'Forbidden',
      404: 'Not Found',
      405: 'Method Not Allowed',
      408: 'Request Timeout',
      413: 'Payload Too Large',
      415: 'Unsupported Media Type',
      422: 'Unprocessable Entity',
      429: 'Too Many Requests',
      500: 'Internal Server Error',
      502: 'Bad Gateway',
      503: 'Service Unavailable',
    };
    for (const code of Object.keys(errorCodes) as ErrorCode[]) {
      const body = errorBody(new StudyhookError(code));
      assert.equal(body.statusCode, errorCodes[code].status, code);
      assert.equal(body.error, reasons[body.statusCode], code);
    }
  });

  it("gives a reply with the table's status, the error's headers and details, and hides internals of a 500", () => {
    const kept = new StudyhookError(
      'SH_INVALID_PAYLOAD',
      'Payload could not be used; it was kept in quarantine',
      { details: [{ path: '/', message: 'x' }] },
    );
    assert.deepEqual(errorReply(kept), {
      status: 422,
      headers: {},
      body: {
        statusCode: 422,
        code: 'SH_INVALID_PAYLOAD',
        error: 'Unprocessable Entity',
        message: 'Payload could not be used; it was kept in quarantine',
        details: [{ path: '/', message: 'x' }],
      },
    });
    assert.deepEqual(
      errorReply(
        new StudyhookError('SH_RATE_LIMITED', undefined, { headers: { 'Retry-After': '1' } }),
      ).headers,
      { 'Retry-After': '1' },
    );
    assert.deepEqual(errorReply(new Error('secret detail')), {
      status: 500,
      headers: {},
      body: {
        statusCode: 500,
        code: 'SH_INTERNAL',
        error: 'Internal Server Error',
        message: 'Internal error',
      },
    });
  });
});
