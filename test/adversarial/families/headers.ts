import fc from 'fast-check';
import { PROTO_KEYS, targetArb, type Target } from '../arbs.js';
import { sample, toWire, type Plan } from '../requests.js';

/** A valid request with random headers added, some of its own removed, and maybe another method. */
export interface HeadersAction extends Target {
  family: 'headers';
  method: string;
  /** Lower-case names of the sample's headers to leave out. */
  drop: string[];
  add: [string, string][];
}

const INTERESTING = [
  'content-type',
  'content-length',
  'transfer-encoding',
  'content-encoding',
  'expect',
  'origin',
  'connection',
  'host',
  'authorization',
  'x-forwarded-for',
  'x-event-id',
  'x-timestamp',
  'x-prolific-request-timestamp',
  'x-prolific-request-signature',
  'x-actigraph-event',
  'x-actigraph-delivery',
  'x-actigraph-signature',
  'x-actigraph-hook-secret',
  'x-actigraph-webhook-id',
  'access-control-request-method',
  'cookie',
  'upgrade',
];

const VALUES = [
  '',
  ' ',
  '0',
  '-1',
  '1e3',
  '99999999999999999999',
  'null',
  'undefined',
  'application/json',
  'application/json; charset=utf-16',
  'text/plain',
  'multipart/form-data',
  'application/x-www-form-urlencoded',
  'gzip',
  'chunked',
  'identity, chunked',
  '100-continue',
  'keep-alive',
  'upgrade',
  'https://www.labvanced.com',
  'https://evil.example',
  'validation',
  'upload',
  'Basic Og==',
  'Bearer x',
  '127.0.0.1, 10.0.0.1',
  '__proto__',
];

const nameArb = fc
  .oneof(
    { weight: 3, arbitrary: fc.constantFrom(...INTERESTING) },
    { weight: 1, arbitrary: fc.constantFrom(...PROTO_KEYS) },
    { weight: 2, arbitrary: fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,30}$/) },
  )
  .map((n) => (n.toLowerCase() === 'x-request-id' ? `${n}-not` : n)); // why: the request id is how a reply is matched with its delivery

/** True when no byte of the value as written (latin1) is CR or LF: a line break would start another header. */
function oneLine(v: string): boolean {
  for (let i = 0; i < v.length; i++) if ([10, 13].includes(v.charCodeAt(i) & 0xff)) return false;
  return true;
}

const valueArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...VALUES) },
  { weight: 2, arbitrary: fc.string({ maxLength: 40 }).filter(oneLine) },
  { weight: 1, arbitrary: fc.string({ maxLength: 20, unit: 'binary' }).filter(oneLine) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 20_000 }).map((n) => 'v'.repeat(n)) },
);

export const headersArb: fc.Arbitrary<HeadersAction> = fc
  .record({
    t: targetArb,
    method: fc.oneof(
      { weight: 8, arbitrary: fc.constant('POST') },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          'GET',
          'PUT',
          'PATCH',
          'DELETE',
          'OPTIONS',
          'HEAD',
          'FOO',
          'post',
        ),
      },
    ),
    drop: fc.subarray([
      'content-type',
      'origin',
      'x-event-id',
      'x-prolific-request-signature',
      'x-prolific-request-timestamp',
      'x-actigraph-event',
      'x-actigraph-delivery',
      'x-actigraph-signature',
      'authorization',
    ]),
    add: fc.array(fc.tuple(nameArb, valueArb), { maxLength: 8 }),
  })
  .map(({ t, ...rest }) => ({ family: 'headers' as const, ...t, ...rest }));

export function planHeaders(a: HeadersAction): Plan {
  const s = sample(a.platform, a.route, a.namespace, a.event);
  const kept = Object.entries(s.headers).filter(([k]) => !a.drop.includes(k.toLowerCase()));
  const framed = a.add.some(([k]) =>
    ['content-length', 'transfer-encoding'].includes(k.toLowerCase()),
  );
  const wire = {
    ...toWire(s),
    method: a.method,
    headers: [...kept, ...a.add],
    framing: framed ? ('none' as const) : ('length' as const),
  };
  return [
    [
      {
        label: `${a.method} ${a.platform}/${a.namespace}/${a.route} -[${a.drop.join(',')}] +${a.add.length} headers`,
        wire,
        expect: 'any',
      },
    ],
  ];
}

/** A valid request sent with another Content-Type (or none). */
export interface ContentTypeAction extends Target {
  family: 'content-type';
  contentType: string | null;
}

const TYPES = [
  'application/octet-stream',
  'text/plain',
  'text/plain; charset=utf-8',
  'application/json; charset=utf-8',
  'APPLICATION/JSON',
  'application/cloudevents+json',
  'application/x-www-form-urlencoded',
  'multipart/form-data; boundary=x',
  'text/html',
  '*/*',
  'json',
  '',
];

export const contentTypeArb: fc.Arbitrary<ContentTypeAction> = fc
  .record({
    t: targetArb.filter((t) => t.route !== 'file_upload'),
    contentType: fc.option(fc.constantFrom(...TYPES)),
  })
  .map(({ t, contentType }) => ({ family: 'content-type' as const, ...t, contentType }));

/**
 * Prolific, Sensor Logger and ActiGraph read JSON whatever the Content-Type, and MyDataHelps too
 * unless a form is declared (docs/platforms/<platform>.md): there a valid body must be acknowledged.
 */
function readWhateverTheType(platform: string, type: string | null): boolean {
  if (['prolific', 'sensorlogger', 'actigraph'].includes(platform)) return true;
  return (
    platform === 'mydatahelps' &&
    !/^(application\/x-www-form-urlencoded|multipart\/)/i.test(type ?? '')
  );
}

export function planContentType(a: ContentTypeAction): Plan {
  const s = sample(a.platform, a.route, a.namespace, a.event);
  const headers = Object.entries(s.headers).filter(([k]) => k.toLowerCase() !== 'content-type');
  if (a.contentType !== null) headers.push(['Content-Type', a.contentType]);
  return [
    [
      {
        label: `${a.platform}/${a.namespace}/${a.route} as ${JSON.stringify(a.contentType)}`,
        wire: { ...toWire(s), headers },
        expect: readWhateverTheType(a.platform, a.contentType) ? 'valid' : 'any',
      },
    ],
  ];
}
