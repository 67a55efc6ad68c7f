import fc from 'fast-check';
import { PROTO_KEYS } from '../arbs.js';
import { labvancedSample } from '../../../adapters/labvanced/sample.js';
import { SECRETS } from '../config.js';
import { payloadOf, sample, setHeader, toWire, unique, withBody, type Plan } from '../requests.js';

// why: the routes a Labvanced sample can be sent to, from the adapter's own sample.
const LABVANCED_ROUTES = labvancedSample.routes;

/** A request with wrong or missing credentials, or for a namespace that is not configured. */
export type ForgedAction =
  | {
      family: 'forged';
      platform: 'prolific';
      how:
        | 'no-signature'
        | 'no-timestamp'
        | 'wrong-secret'
        | 'body-changed'
        | 'timestamp-changed'
        | 'empty-signature'
        | 'other-body-signature'
        | 'truncated-signature';
    }
  | {
      family: 'forged';
      platform: 'actigraph';
      how:
        | 'no-signature'
        | 'wrong-secret'
        | 'body-changed'
        | 'other-body-signature'
        | 'truncated-signature';
    }
  | {
      family: 'forged';
      platform: 'sensorlogger';
      how:
        | 'no-code'
        | 'wrong-code'
        | 'code-number'
        | 'code-array'
        | 'code-object'
        | 'null-body'
        | 'array-body'
        | 'string-body'
        | 'number-body'
        | 'code-case'
        | 'code-padded'
        | 'code-prefix';
    }
  | {
      family: 'forged';
      platform: 'mydatahelps';
      how:
        | 'no-token'
        | 'wrong-token'
        | 'token-prefix'
        | 'token-suffix'
        | 'token-case'
        | 'basic-garbage';
    }
  | {
      family: 'forged';
      platform: 'labvanced';
      how: 'origin-not-listed' | 'origin-suffix' | 'origin-null' | 'origin-trailing-slash';
      route: string;
      namespace: 'web' | 'stroop';
    }
  | {
      family: 'forged';
      platform: 'prolific' | 'actigraph' | 'mydatahelps';
      how: 'unconfigured-namespace' | 'validation-unconfigured-namespace';
      namespace: string;
    };

const otherNamespace = fc.constantFrom('nope', 'default', 'Signed', 'device2', ...PROTO_KEYS);

export const forgedArb: fc.Arbitrary<ForgedAction> = fc.oneof(
  fc.record({
    family: fc.constant('forged' as const),
    platform: fc.constant('prolific' as const),
    how: fc.constantFrom(
      'no-signature' as const,
      'no-timestamp' as const,
      'wrong-secret' as const,
      'body-changed' as const,
      'timestamp-changed' as const,
      'empty-signature' as const,
      'other-body-signature' as const,
      'truncated-signature' as const,
    ),
  }),
  fc.record({
    family: fc.constant('forged' as const),
    platform: fc.constant('actigraph' as const),
    how: fc.constantFrom(
      'no-signature' as const,
      'wrong-secret' as const,
      'body-changed' as const,
      'other-body-signature' as const,
      'truncated-signature' as const,
    ),
  }),
  fc.record({
    family: fc.constant('forged' as const),
    platform: fc.constant('sensorlogger' as const),
    how: fc.constantFrom(
      'no-code' as const,
      'wrong-code' as const,
      'code-number' as const,
      'code-array' as const,
      'code-object' as const,
      'null-body' as const,
      'array-body' as const,
      'string-body' as const,
      'number-body' as const,
      'code-case' as const,
      'code-padded' as const,
      'code-prefix' as const,
    ),
  }),
  fc.record({
    family: fc.constant('forged' as const),
    platform: fc.constant('mydatahelps' as const),
    how: fc.constantFrom(
      'no-token' as const,
      'wrong-token' as const,
      'token-prefix' as const,
      'token-suffix' as const,
      'token-case' as const,
      'basic-garbage' as const,
    ),
  }),
  fc.record({
    family: fc.constant('forged' as const),
    platform: fc.constant('labvanced' as const),
    how: fc.constantFrom(
      'origin-not-listed' as const,
      'origin-suffix' as const,
      'origin-null' as const,
      'origin-trailing-slash' as const,
    ),
    route: fc.constantFrom(...LABVANCED_ROUTES),
    namespace: fc.constantFrom('web' as const, 'stroop' as const),
  }),
  fc.record({
    family: fc.constant('forged' as const),
    platform: fc.constantFrom('prolific' as const, 'actigraph' as const, 'mydatahelps' as const),
    how: fc.constantFrom(
      'unconfigured-namespace' as const,
      'validation-unconfigured-namespace' as const,
    ),
    namespace: otherNamespace,
  }),
);

/** The same body with one value changed (a status), as an attacker who captured a signed request would try. */
const tamper = (b: Buffer): Buffer =>
  Buffer.from(
    b.toString('utf8').replace('AWAITING REVIEW', 'APPROVED').replace('"completed"', '"cancelled"'),
  );

function forge(a: ForgedAction) {
  switch (a.platform) {
    case 'prolific':
    case 'actigraph': {
      const sig =
        a.platform === 'prolific' ? 'x-prolific-request-signature' : 'x-actigraph-signature';
      if (a.how === 'unconfigured-namespace' || a.how === 'validation-unconfigured-namespace')
        break;
      const s = sample(a.platform, '', a.platform === 'prolific' ? 'signed' : 'device');
      switch (a.how) {
        case 'no-signature':
          return setHeader(s, sig, undefined);
        case 'no-timestamp':
          return setHeader(s, 'x-prolific-request-timestamp', undefined);
        case 'wrong-secret':
          return withBody(a.platform, s, s.body, undefined, SECRETS.other);
        case 'body-changed':
          return { ...s, body: tamper(s.body) };
        case 'timestamp-changed':
          return setHeader(
            s,
            'x-prolific-request-timestamp',
            String(Number(s.headers['x-prolific-request-timestamp']) + 1),
          );
        case 'empty-signature':
          return setHeader(s, sig, '');
        case 'other-body-signature':
          return setHeader(
            s,
            sig,
            sample(a.platform, '', a.platform === 'prolific' ? 'signed' : 'device').headers[sig],
          );
        case 'truncated-signature':
          return setHeader(s, sig, s.headers[sig]!.slice(0, -2));
      }
      break;
    }
    case 'sensorlogger': {
      const s = sample('sensorlogger', '', 'locked');
      const p = payloadOf(s)!;
      const code = SECRETS.sensorlogger;
      const body = (v: unknown) => ({
        ...s,
        body: Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)),
      });
      switch (a.how) {
        case 'no-code': {
          const { secretCode: _, ...rest } = p;
          return body(rest);
        }
        case 'wrong-code':
          return body({ ...p, secretCode: SECRETS.other });
        case 'code-number':
          return body({ ...p, secretCode: 123456 });
        case 'code-array':
          return body({ ...p, secretCode: [code] });
        case 'code-object':
          return body({ ...p, secretCode: { 0: code, toString: code } });
        case 'null-body':
          return body('null');
        case 'array-body':
          return body(`[${JSON.stringify(p)}]`);
        case 'string-body':
          return body(JSON.stringify(code));
        case 'number-body':
          return body('1');
        case 'code-case':
          return body({ ...p, secretCode: code.toUpperCase() });
        case 'code-padded':
          return body({ ...p, secretCode: ` ${code}` });
        case 'code-prefix':
          return body({ ...p, secretCode: code.slice(0, -1) });
      }
      break;
    }
    case 'mydatahelps': {
      if (a.how === 'unconfigured-namespace' || a.how === 'validation-unconfigured-namespace')
        break;
      const s = sample('mydatahelps', '', 'app');
      const token = SECRETS.mydatahelps;
      const at = (t: string) => ({ ...s, path: `/mydatahelps/app${t ? `/${t}` : ''}` });
      switch (a.how) {
        case 'no-token':
          return at('');
        case 'wrong-token':
          return at('0123456789abcdef0123456789abcdef');
        case 'token-prefix':
          return at(token.slice(0, -1));
        case 'token-suffix':
          return at(`${token}x`);
        case 'token-case':
          return at(token.toUpperCase());
        case 'basic-garbage':
          return setHeader(
            at(''),
            'authorization',
            `Basic ${Buffer.from(`app:${token}`).toString('base64')}`,
          );
      }
      break;
    }
    case 'labvanced': {
      const s = sample('labvanced', a.route, a.namespace);
      const origin = {
        'origin-not-listed': 'https://evil.example',
        'origin-suffix': 'https://www.labvanced.com.evil.example',
        'origin-null': 'null',
        'origin-trailing-slash': 'https://www.labvanced.com/',
      }[a.how];
      return setHeader(s, 'origin', origin);
    }
  }
  // An unconfigured namespace of a platform without `*`, with a request signed as for the configured one.
  const ns = a.platform === 'prolific' ? 'signed' : a.platform === 'actigraph' ? 'device' : 'app';
  const route =
    a.platform === 'actigraph' && a.how === 'validation-unconfigured-namespace' ? 'validation' : '';
  const s = sample(a.platform, route, ns);
  const parts = s.path.split('/');
  parts[2] = (a as { namespace: string }).namespace;
  return { ...s, path: parts.join('/') };
}

/** A Labvanced call sent first with a guessed session number and other data, then the participant's real one: both must arrive. */
export interface FirstCallerAction {
  family: 'first-caller';
  route: string;
}

export const firstCallerArb: fc.Arbitrary<FirstCallerAction> = fc
  .constantFrom(...LABVANCED_ROUTES)
  .map((route) => ({ family: 'first-caller' as const, route }));

export function planForged(a: ForgedAction): Plan {
  return [
    [
      {
        label: `forged ${a.platform}: ${a.how}${'namespace' in a ? ` (${a.namespace})` : ''}`,
        wire: toWire(forge(a)),
        expect: 'forged',
      },
    ],
  ];
}

export function planFirstCaller(a: FirstCallerAction): Plan {
  const real = sample('labvanced', a.route, 'web');
  let guess;
  if (a.route === 'file_upload') {
    guess = {
      ...real,
      body: Buffer.from(
        real.body
          .toString('latin1')
          .replace(/(filename="blob"\r\nContent-Type: video\/webm\r\n\r\n)/, '$1FORGED'),
        'latin1',
      ),
    };
  } else if (a.route === 'recordTrial') {
    // why: a trial's id already covers its recData; a forgery that changes anything else is the same trial.
    const p = payloadOf(real)!;
    guess = withBody(
      'labvanced',
      real,
      Buffer.from(
        JSON.stringify({ ...p, recData: { data: { response: 'FORGED' }, scope: 'trial' } }),
      ),
    );
  } else {
    guess = withBody(
      'labvanced',
      real,
      Buffer.from(JSON.stringify({ ...payloadOf(real), forged: unique() })),
    );
  }
  return [
    [
      {
        label: `guessed ${a.route} with the participant's session number`,
        wire: toWire(guess),
        expect: 'any',
      },
    ],
    [{ label: `the participant's real ${a.route}`, wire: toWire(real), expect: 'valid' }],
  ];
}
