import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { PROTO_KEYS, SCALE } from '../arbs.js';
import { unique, type Plan } from '../requests.js';
import type { WireRequest } from '../wire.js';

/** One part: a field or a file, possibly nameless, with padded or many headers, repeated `repeat` times. */
export interface PartSpec {
  kind: 'field' | 'file';
  /** null: no `name` parameter. */
  name: string | null;
  /** Files only; '' is an empty filename. */
  filename?: string;
  contentType?: string;
  size: number;
  /** `boundary`: the data holds `--<boundary>` (no CRLF before it); `crlf-boundary`: `\r\n--<boundary>`, which ends the part early. */
  fill: 'random' | 'text' | 'boundary' | 'crlf-boundary';
  /** Bytes of an extra header line on the part. */
  headerPad: number;
  /** Extra header lines on the part. */
  headerLines: number;
  repeat: number;
}

export interface MultipartAction {
  family: 'multipart';
  namespace: 'web' | 'stroop';
  origin: 'listed' | 'none';
  boundary: string;
  contentType:
    'plain' | 'quoted' | 'no-boundary' | 'empty-boundary' | 'other-boundary' | 'charset-first';
  /** The three parts the player sends (expSessionNr — a fresh number —, newFileName, myFile) come first. */
  standard: { fileSize: number } | null;
  parts: PartSpec[];
  ending: 'closed' | 'no-closing-boundary' | 'no-closing-crlf' | 'open-part' | 'epilogue' | 'cut';
  /** For `cut`: where the closed body is cut, as a fraction of its length. */
  cutAt: number;
  lineEnding: 'crlf' | 'lf';
  framing: 'length' | 'chunked';
}

const partName = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom('expSessionNr', 'newFileName', 'myFile', 'other') },
  { weight: 2, arbitrary: fc.constantFrom(...PROTO_KEYS) },
  { weight: 1, arbitrary: fc.constantFrom('', 'a"b', 'é', 'x'.repeat(300)) },
  { weight: 1, arbitrary: fc.constant(null) },
);

const partArb: fc.Arbitrary<PartSpec> = fc.record({
  kind: fc.constantFrom('field', 'file'),
  name: partName,
  filename: fc.constantFrom('a.webm', '', '../../escape.webm', 'x'.repeat(300), '__proto__'),
  contentType: fc.constantFrom('video/webm', 'application/octet-stream', 'text/plain', ''),
  size: fc.oneof(
    { weight: 3, arbitrary: fc.integer({ min: 0, max: 64 }) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: 300_000 * SCALE }) },
  ),
  fill: fc.constantFrom('random', 'text', 'boundary', 'crlf-boundary'),
  headerPad: fc.oneof(
    { weight: 6, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 200_000 }) },
  ),
  headerLines: fc.oneof(
    { weight: 6, arbitrary: fc.constant(0) },
    { weight: 1, arbitrary: fc.integer({ min: 1, max: 3000 }) },
  ),
  repeat: fc.oneof(
    { weight: 6, arbitrary: fc.constant(1) },
    { weight: 1, arbitrary: fc.integer({ min: 2, max: 5000 }) },
  ),
});

export const multipartArb: fc.Arbitrary<MultipartAction> = fc.record({
  family: fc.constant('multipart' as const),
  namespace: fc.constantFrom('web' as const, 'stroop' as const),
  origin: fc.constantFrom('listed' as const, 'none' as const),
  boundary: fc.oneof(
    fc.constantFrom('x1', '----WebKitFormBoundary7MA4YWxkTrZu0gW'),
    fc.stringMatching(/^[A-Za-z0-9_-]{1,80}$/),
  ),
  contentType: fc.oneof(
    { weight: 6, arbitrary: fc.constant('plain' as const) },
    {
      weight: 1,
      arbitrary: fc.constantFrom(
        'quoted' as const,
        'no-boundary' as const,
        'empty-boundary' as const,
        'other-boundary' as const,
        'charset-first' as const,
      ),
    },
  ),
  standard: fc.option(fc.record({ fileSize: fc.integer({ min: 0, max: 200_000 * SCALE }) }), {
    freq: 4,
  }),
  parts: fc.array(partArb, { maxLength: 4 }),
  ending: fc.constantFrom(
    'closed',
    'no-closing-boundary',
    'no-closing-crlf',
    'open-part',
    'epilogue',
    'cut',
  ),
  cutAt: fc.double({ min: 0, max: 1, noNaN: true }),
  lineEnding: fc.oneof(
    { weight: 8, arbitrary: fc.constant('crlf' as const) },
    { weight: 1, arbitrary: fc.constant('lf' as const) },
  ),
  framing: fc.constantFrom('length' as const, 'chunked' as const),
});

/** Repeated parts stop at this many bytes, so that a run stays small. */
const MAX_BODY = 8 * 1024 * 1024 * SCALE;

function content(p: PartSpec, boundary: string, eol: string): Buffer {
  if (p.fill === 'random') return randomBytes(p.size);
  const text = Buffer.alloc(p.size, 'a');
  const marker = Buffer.from(
    p.fill === 'boundary'
      ? `--${boundary}`
      : p.fill === 'crlf-boundary'
        ? `${eol}--${boundary}`
        : '',
  );
  if (marker.length > 0 && p.size >= marker.length)
    marker.copy(text, Math.floor((p.size - marker.length) / 2));
  return text;
}

function partBytes(p: PartSpec, boundary: string, eol: string): Buffer {
  const disposition = [
    'form-data',
    ...(p.name === null ? [] : [`name="${p.name}"`]),
    ...(p.kind === 'file' ? [`filename="${p.filename ?? ''}"`] : []),
  ].join('; ');
  const headers = [`Content-Disposition: ${disposition}`];
  if (p.kind === 'file' && p.contentType) headers.push(`Content-Type: ${p.contentType}`);
  if (p.headerPad > 0) headers.push(`X-Pad: ${'p'.repeat(p.headerPad)}`);
  for (let i = 0; i < p.headerLines; i++) headers.push(`X-Line-${i}: ${i}`);
  const one = Buffer.concat([
    Buffer.from(`--${boundary}${eol}${headers.join(eol)}${eol}${eol}`),
    content(p, boundary, eol),
    Buffer.from(eol),
  ]);
  const repeat = Math.max(1, Math.min(p.repeat, Math.floor(MAX_BODY / one.length)));
  return repeat === 1 ? one : Buffer.concat(Array.from({ length: repeat }, () => one));
}

/** The multipart body and Content-Type an action describes. */
export function multipartBody(a: MultipartAction): { body: Buffer; contentType: string } {
  const eol = a.lineEnding === 'crlf' ? '\r\n' : '\n';
  const standard: PartSpec[] =
    a.standard === null
      ? []
      : [
          {
            kind: 'field',
            name: 'expSessionNr',
            size: 0,
            fill: 'text',
            headerPad: 0,
            headerLines: 0,
            repeat: 1,
          },
          {
            kind: 'field',
            name: 'newFileName',
            size: 0,
            fill: 'text',
            headerPad: 0,
            headerLines: 0,
            repeat: 1,
          },
          {
            kind: 'file',
            name: 'myFile',
            filename: 'blob',
            contentType: 'video/webm',
            size: a.standard.fileSize,
            fill: 'random',
            headerPad: 0,
            headerLines: 0,
            repeat: 1,
          },
        ];
  const session = unique();
  const fieldValue = (name: string) => (name === 'expSessionNr' ? session : 'recording.webm');
  const parts = [
    ...standard.map((p) =>
      p.kind === 'field'
        ? Buffer.from(
            `--${a.boundary}${eol}Content-Disposition: form-data; name="${p.name}"${eol}${eol}${fieldValue(p.name!)}${eol}`,
          )
        : partBytes(p, a.boundary, eol),
    ),
    ...a.parts.map((p) => partBytes(p, a.boundary, eol)),
  ];
  const close = Buffer.from(`--${a.boundary}--${eol}`);
  let body: Buffer;
  switch (a.ending) {
    case 'closed':
      body = Buffer.concat([...parts, close]);
      break;
    case 'no-closing-boundary':
      body = Buffer.concat(parts);
      break;
    case 'no-closing-crlf': {
      const b = Buffer.concat(parts);
      body = b.subarray(0, Math.max(0, b.length - eol.length));
      break;
    }
    case 'open-part':
      body = Buffer.concat([...parts, Buffer.from(`--${a.boundary}${eol}`)]);
      break;
    case 'epilogue':
      body = Buffer.concat([
        ...parts,
        close,
        Buffer.from(`trailing garbage --${a.boundary}${eol}`),
      ]);
      break;
    case 'cut': {
      const b = Buffer.concat([...parts, close]);
      body = b.subarray(0, Math.floor(b.length * a.cutAt));
      break;
    }
  }
  const contentType = {
    plain: `multipart/form-data; boundary=${a.boundary}`,
    quoted: `multipart/form-data; boundary="${a.boundary}"`,
    'no-boundary': 'multipart/form-data',
    'empty-boundary': 'multipart/form-data; boundary=',
    'other-boundary': `multipart/form-data; boundary=${a.boundary}X`,
    'charset-first': `multipart/form-data; charset=utf-8; boundary=${a.boundary}`,
  }[a.contentType];
  return { body, contentType };
}

export function multipartWire(a: MultipartAction): WireRequest {
  const { body, contentType } = multipartBody(a);
  const headers: [string, string][] = [['Content-Type', contentType]];
  if (a.origin === 'listed') headers.push(['Origin', 'https://www.labvanced.com']);
  return {
    method: 'POST',
    path: `/labvanced/${a.namespace}/file_upload`,
    headers,
    body,
    framing: a.framing,
    delivery: { kind: 'whole' },
  };
}

export function planMultipart(a: MultipartAction): Plan {
  const wire = multipartWire(a);
  return [
    [
      {
        label: `multipart ${a.ending}, ${a.parts.length + (a.standard ? 3 : 0)} part specs, ${wire.body.length} B`,
        wire,
        expect: 'any',
      },
    ],
  ];
}
