import qs from 'qs';
import type { BodyKind } from '../adapter/types.js';
import { StudyhookError } from '../errors.js';

// why: senders repeat the same few Content-Type values; a lookup costs less than split, trim and
// lower-case each time. Bounded, since the value comes from the caller.
const mediaTypes = new Map<string, string>();

function mediaType(contentType: string | undefined): string {
  if (contentType === undefined) return '';
  let type = mediaTypes.get(contentType);
  if (type === undefined) {
    type = contentType.split(';')[0]!.trim().toLowerCase();
    if (mediaTypes.size >= 64) mediaTypes.clear();
    mediaTypes.set(contentType, type);
  }
  return type;
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new StudyhookError('SH_BAD_BODY', `Body is not valid JSON: ${(err as Error).message}`);
  }
}

// why: jQuery sends nested objects as bracket keys (`recData[data][rt]=512`); qs reads them back.
function parseForm(body: Buffer): unknown {
  return qs.parse(body.toString('utf8'), { depth: 20, arrayLimit: 1000, parameterLimit: 10000, allowDots: false });
}

/** Parses a verified raw body according to the route's kind and the request's Content-Type. */
export function parseBody(kind: BodyKind, body: Buffer, contentType: string | undefined): unknown {
  const type = mediaType(contentType);
  switch (kind) {
    case 'none': return undefined;
    case 'json-any': return parseJson(body);
    case 'json':
      if (type !== 'application/json' && !type.endsWith('+json')) throw new StudyhookError('SH_UNSUPPORTED_MEDIA_TYPE', `Expected application/json, got '${type || 'none'}'`);
      return parseJson(body);
    case 'form':
      if (type !== 'application/x-www-form-urlencoded') throw new StudyhookError('SH_UNSUPPORTED_MEDIA_TYPE', `Expected application/x-www-form-urlencoded, got '${type || 'none'}'`);
      return parseForm(body);
    case 'json-or-form':
      if (type === 'application/x-www-form-urlencoded') return parseForm(body);
      if (type === 'application/json' || type.endsWith('+json') || type === 'text/plain' || type === '') return parseJson(body);
      throw new StudyhookError('SH_UNSUPPORTED_MEDIA_TYPE', `Expected JSON or a urlencoded form, got '${type}'`);
    case 'multipart':
      throw new Error('multipart bodies are streamed, not parsed from bytes');
  }
}

export function isMultipart(contentType: string | undefined): boolean {
  return mediaType(contentType) === 'multipart/form-data';
}
