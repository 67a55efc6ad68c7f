import { isUtf8 } from 'node:buffer';
import type { BodyKind } from '../adapter/types.js';
import { StudyhookError } from '../errors.js';
import { hasBom } from '../verify/presets.js';
import { parseForm } from './parse-form.js';
import { checkJsonShape, type ParseLimits } from './parse-limits.js';

function mediaType(contentType: string | undefined): string {
  return contentType === undefined ? '' : contentType.split(';')[0]!.trim().toLowerCase();
}

/** Text of the body: a leading UTF-8 BOM dropped (ActiGraph may send one), invalid UTF-8 refused rather than replaced by U+FFFD. */
function textOf(body: Buffer, what: string): string {
  const bytes = hasBom(body) ? body.subarray(3) : body;
  if (!isUtf8(bytes)) throw new StudyhookError('SH_BAD_BODY', `${what} body is not valid UTF-8`);
  return bytes.toString('utf8');
}

/**
 * Parses JSON bytes within `limits` (depth and number of values, checked before JSON.parse).
 * Without limits only for a caller that reads one top-level field and walks nothing (a verifier).
 */
export function parseJson(body: Buffer, limits: ParseLimits | undefined): unknown {
  const text = textOf(body, 'JSON');
  if (limits) checkJsonShape(body, limits);
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new StudyhookError('SH_BAD_BODY', `Body is not valid JSON: ${(err as Error).message}`);
  }
}

function parseFormBody(body: Buffer, limits: ParseLimits): unknown {
  return parseForm(textOf(body, 'Form'), limits);
}

/**
 * Parses a verified raw body according to the route's kind and the request's Content-Type. Throws
 * `SH_BAD_BODY` (unreadable), `SH_UNSUPPORTED_MEDIA_TYPE` or `SH_BODY_TOO_LARGE` (over `limits`).
 */
export function parseBody(
  kind: BodyKind,
  body: Buffer,
  contentType: string | undefined,
  limits: ParseLimits,
): unknown {
  const type = mediaType(contentType);
  switch (kind) {
    case 'none':
      return undefined;
    case 'json-any':
      return parseJson(body, limits);
    case 'json':
      if (type !== 'application/json' && !type.endsWith('+json'))
        throw new StudyhookError(
          'SH_UNSUPPORTED_MEDIA_TYPE',
          `Expected application/json, got '${type || 'none'}'`,
        );
      return parseJson(body, limits);
    case 'form':
      if (type !== 'application/x-www-form-urlencoded')
        throw new StudyhookError(
          'SH_UNSUPPORTED_MEDIA_TYPE',
          `Expected application/x-www-form-urlencoded, got '${type || 'none'}'`,
        );
      return parseFormBody(body, limits);
    case 'json-or-form':
      // why: a declared form is read as one; anything else as JSON whatever its type, since senders
      // label JSON as text/plain, octet-stream or nothing (MyDataHelps documents no Content-Type).
      return type === 'application/x-www-form-urlencoded'
        ? parseFormBody(body, limits)
        : parseJson(body, limits);
    case 'multipart':
      throw new Error('multipart bodies are streamed, not parsed from bytes');
  }
}

export function isMultipart(contentType: string | undefined): boolean {
  return mediaType(contentType) === 'multipart/form-data';
}
