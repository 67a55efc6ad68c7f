import fc from 'fast-check';
import { encodeAll, PROTO_KEYS, targetArb, type Target } from '../arbs.js';
import { CLOSED_PLATFORMS } from '../config.js';
import {
  FORM_PLATFORMS,
  FORM_TYPE,
  formBody,
  isAuthentic,
  payloadOf,
  sample,
  setHeader,
  toWire,
  withBody,
  type Expectation,
  type Plan,
} from '../requests.js';
import { multipartWire } from './multipart.js';

export type ProtoWhere =
  | 'namespace'
  | 'route'
  | 'json-key'
  | 'nested-json-key'
  | 'form-key'
  | 'header-name'
  | 'query-key'
  | 'multipart-field'
  | 'multipart-file';

/** An Object.prototype name (`__proto__`, `constructor`, `toString`, ...) where the gateway looks something up. */
export interface ProtoAction extends Target {
  family: 'proto';
  key: string;
  where: ProtoWhere;
  /** The value given to the key (JSON text) where there is one. */
  value: string;
  /** Namespaces and routes only: percent-encode every byte of the key. */
  encoded: boolean;
}

export const protoArb: fc.Arbitrary<ProtoAction> = fc
  .record({
    t: targetArb,
    key: fc.constantFrom(...PROTO_KEYS),
    where: fc.constantFrom<ProtoWhere>(
      'namespace',
      'route',
      'json-key',
      'nested-json-key',
      'form-key',
      'header-name',
      'query-key',
      'multipart-field',
      'multipart-file',
    ),
    value: fc.constantFrom('"x"', '{"polluted":"yes"}', '1', 'null', '[]', 'true'),
    encoded: fc.boolean(),
  })
  .map(({ t, ...rest }) => ({ family: 'proto' as const, ...t, ...rest }));

/** `path` with its namespace segment (the second) replaced. */
function withNamespace(path: string, ns: string): string {
  const parts = path.split('/');
  parts[2] = ns;
  return parts.join('/');
}

export function planProto(a: ProtoAction): Plan {
  const name = `'${a.key}' as ${a.where}`;
  if (a.where === 'multipart-field' || a.where === 'multipart-file') {
    const wire = multipartWire({
      family: 'multipart',
      namespace: 'web',
      origin: 'listed',
      boundary: 'x1',
      contentType: 'plain',
      standard: { fileSize: 16 },
      parts: [
        {
          kind: a.where === 'multipart-file' ? 'file' : 'field',
          name: a.key,
          filename: 'b.webm',
          contentType: 'video/webm',
          size: 8,
          fill: 'text',
          headerPad: 0,
          headerLines: 0,
          repeat: 1,
        },
      ],
      ending: 'closed',
      cutAt: 1,
      lineEnding: 'crlf',
      framing: 'length',
    });
    return [[{ label: `${name} on a labvanced upload`, wire, expect: 'any' }]];
  }
  const s = sample(a.platform, a.route, a.namespace, a.event);
  const where = `${a.platform}/${a.namespace}/${a.route}`;
  const segment = a.encoded ? encodeAll(a.key) : a.key;
  let expect: Expectation = 'any';
  let addedKey: string | undefined;
  let authentic = false;
  let out = s;
  switch (a.where) {
    case 'namespace':
      out = { ...s, path: withNamespace(s.path, segment) };
      // why: these platforms have no `*` namespace, so an unconfigured name must be refused whatever the credentials.
      if ((CLOSED_PLATFORMS as readonly string[]).includes(a.platform)) expect = 'forged';
      break;
    case 'route': {
      // why: no platform has a route named like an Object.prototype key (MyDataHelps reads it as a token, which is not configured).
      const parts = s.path.split('/').slice(0, 3);
      out = { ...s, path: [...parts, segment].join('/') };
      expect = 'forged';
      break;
    }
    case 'json-key':
    case 'nested-json-key': {
      const payload = payloadOf(s);
      if (!payload)
        return [[{ label: `${name} (no JSON) on ${where}`, wire: toWire(s), expect: 'valid' }]];
      const text = JSON.stringify(payload);
      const member =
        a.where === 'json-key'
          ? `${JSON.stringify(a.key)}:${a.value}`
          : `"nested":{${JSON.stringify(a.key)}:${a.value}}`;
      out = withBody(a.platform, s, Buffer.from(`{${member},${text.slice(1)}`));
      addedKey = a.where === 'json-key' ? a.key : 'nested';
      authentic = isAuthentic(a.platform, a.namespace, true);
      break;
    }
    case 'form-key': {
      const payload = payloadOf(s);
      if (!payload || !FORM_PLATFORMS.includes(a.platform))
        return [[{ label: `${name} (no form) on ${where}`, wire: toWire(s), expect: 'valid' }]];
      out = withBody(
        a.platform,
        s,
        Buffer.concat([formBody(payload), Buffer.from(`&${encodeURIComponent(a.key)}=1`)]),
        FORM_TYPE,
      );
      addedKey = a.key;
      authentic = isAuthentic(a.platform, a.namespace, true);
      break;
    }
    case 'header-name':
      out = setHeader(s, a.key, 'x');
      expect = 'valid';
      break;
    case 'query-key':
      out = {
        ...s,
        path: `${s.path}?${encodeURIComponent(a.key)}=1&${encodeURIComponent(a.key)}[x]=2`,
      };
      expect = 'valid';
      break;
  }
  const step = {
    label: `${name} on ${where}`,
    wire: toWire(out),
    expect,
    authentic,
    ...(addedKey !== undefined && { addedKey }),
  };
  return [[step]];
}
