import type { Action } from './families/index.js';
import type { BombAction } from './families/bombs.js';
import type { MultipartAction } from './families/multipart.js';

/**
 * Counterexamples the suite found (FINDINGS.md), kept as fixed runs: each fails until its bug is
 * fixed, and guards against its return afterwards. Titles state the behaviour that must hold.
 */
export interface KnownCase {
  id: string;
  title: string;
  actions: Action[];
}

const upload = (over: Partial<MultipartAction>): MultipartAction => ({
  family: 'multipart',
  namespace: 'web',
  origin: 'listed',
  boundary: 'x1',
  contentType: 'plain',
  standard: { fileSize: 1 },
  parts: [],
  ending: 'closed',
  cutAt: 1,
  lineEnding: 'crlf',
  framing: 'length',
  ...over,
});

/**
 * Depths where V8's stack runs out in JSON.stringify: about 4,100 levels in a fresh process, down to
 * about 2,400 once the code is optimised; the window between the queue's and the spool's stringify is
 * a few levels wide, so the sweep is fine around 4,100 and coarse below.
 */
const depthSweep = (
  platform: string,
  route: string,
  namespace: string,
  shape: 'array-depth' | 'object-depth',
): BombAction[] =>
  [
    ...Array.from({ length: 22 }, (_, i) => 2000 + 100 * i),
    ...Array.from({ length: 15 }, (_, i) => 4096 + 2 * i),
  ].map((n) => ({ family: 'bomb', platform, route, namespace, shape, n, at: 'field' }));

export const KNOWN: KnownCase[] = [
  {
    id: 'F1',
    title:
      'stays up when a multipart upload goes wrong after its file part: no closing boundary, a 20 kB part header, 3,000 fields',
    actions: [
      upload({ ending: 'no-closing-boundary' }),
      upload({
        parts: [
          {
            kind: 'field',
            name: 'other',
            size: 1,
            fill: 'text',
            headerPad: 20_000,
            headerLines: 0,
            repeat: 1,
          },
        ],
      }),
      upload({
        parts: [
          {
            kind: 'field',
            name: 'f',
            size: 1,
            fill: 'text',
            headerPad: 0,
            headerLines: 0,
            repeat: 3000,
          },
        ],
      }),
    ],
  },
  {
    id: 'F2',
    title: 'stays up when the connection of an upload is reset in the middle of the file',
    actions: [
      {
        family: 'reset',
        base: 'upload',
        phase: 'file',
        fraction: 0.5,
        afterMs: 0,
        how: 'reset',
        copies: 8,
      },
    ],
  },
  {
    id: 'F3',
    title:
      'answers no 5xx and delivers (or quarantines) every acknowledged Sensor Logger call nested 2,000 to 4,200 levels deep',
    actions: depthSweep('sensorlogger', '', 'locked', 'array-depth'),
  },
  {
    id: 'F4',
    title:
      'answers no 5xx and delivers every acknowledged Labvanced call nested 2,000 to 4,200 levels deep',
    actions: depthSweep('labvanced', 'recordStartTask', 'web', 'object-depth'),
  },
  {
    id: 'F5',
    title:
      "delivers a participant's Labvanced call after a forged one with the same session number",
    actions: ['startFirstPlayerSession', 'recordStartTask', 'finishExpSession', 'file_upload'].map(
      (route) => ({ family: 'first-caller', route }),
    ),
  },
  {
    id: 'F6',
    title:
      'keeps in quarantine an authenticated body it cannot read (signed Prolific and ActiGraph, MyDataHelps token URL)',
    actions: [
      {
        family: 'bomb',
        platform: 'prolific',
        route: '',
        namespace: 'signed',
        shape: 'truncated',
        n: 1,
        at: 'root',
      },
      {
        family: 'bomb',
        platform: 'actigraph',
        route: '',
        namespace: 'device',
        shape: 'truncated',
        n: 1,
        at: 'root',
      },
      {
        family: 'bomb',
        platform: 'mydatahelps',
        route: 'schedule',
        namespace: 'app',
        shape: 'truncated',
        n: 1,
        at: 'root',
      },
      {
        family: 'bomb',
        platform: 'actigraph',
        route: '',
        namespace: 'device',
        shape: 'string-width',
        n: 10,
        at: 'root',
      },
    ],
  },
  {
    id: 'F7',
    title:
      'acknowledges a MyDataHelps callback sent as application/octet-stream (JSON is read whatever the type)',
    actions: [
      {
        family: 'content-type',
        platform: 'mydatahelps',
        route: '',
        namespace: 'app',
        contentType: 'application/octet-stream',
      },
    ],
  },
  {
    id: 'F8',
    title: 'keeps /healthz under 1 s and RSS under the bound while a 6 MB Labvanced trial arrives',
    actions: [
      {
        family: 'bomb',
        platform: 'labvanced',
        route: 'recordTrial',
        namespace: 'web',
        shape: 'array-width',
        n: 2_000_000,
        at: 'field',
      },
    ],
  },
  {
    id: 'F9',
    title:
      'leaves no blob that nothing refers to when an upload has a second file part or one named __proto__',
    actions: [
      upload({
        parts: [
          {
            kind: 'file',
            name: 'myFile',
            filename: 'b.webm',
            contentType: 'video/webm',
            size: 4,
            fill: 'text',
            headerPad: 0,
            headerLines: 0,
            repeat: 1,
          },
        ],
      }),
      upload({
        parts: [
          {
            kind: 'file',
            name: '__proto__',
            filename: 'b.webm',
            contentType: 'video/webm',
            size: 4,
            fill: 'text',
            headerPad: 0,
            headerLines: 0,
            repeat: 1,
          },
        ],
      }),
    ],
  },
  {
    id: 'F10',
    title:
      'refuses Object.prototype names as namespaces of Prolific and ActiGraph without a 5xx or a handshake',
    actions: [
      {
        family: 'proto',
        platform: 'prolific',
        route: '',
        namespace: 'signed',
        key: 'constructor',
        where: 'namespace',
        value: '1',
        encoded: false,
      },
      {
        family: 'proto',
        platform: 'actigraph',
        route: '',
        namespace: 'device',
        key: 'toString',
        where: 'namespace',
        value: '1',
        encoded: false,
      },
      {
        family: 'forged',
        platform: 'actigraph',
        how: 'validation-unconfigured-namespace',
        namespace: 'constructor',
      },
    ],
  },
  {
    id: 'F11',
    title:
      'delivers a replayed signed Prolific or ActiGraph request at most once, whatever its id header',
    actions: [
      { family: 'replay', platform: 'prolific', variants: ['new-event-id'], parallel: false },
      { family: 'replay', platform: 'prolific', variants: ['no-event-id'], parallel: false },
      { family: 'replay', platform: 'actigraph', variants: ['new-delivery-id'], parallel: false },
    ],
  },
  {
    id: 'F12',
    title: 'stores nothing for a body of null on a Sensor Logger namespace with Study codes',
    actions: [{ family: 'forged', platform: 'sensorlogger', how: 'null-body' }],
  },
  {
    id: 'F13',
    title: 'keeps a __proto__ key of a MyDataHelps callback in the delivered data',
    actions: [
      {
        family: 'proto',
        platform: 'mydatahelps',
        route: '',
        namespace: 'app',
        key: '__proto__',
        where: 'json-key',
        value: '{"polluted":"yes"}',
        encoded: false,
      },
    ],
  },
  {
    id: 'F14',
    title:
      'keeps urlencoded keys named like Object.prototype members (toString, __proto__) in the delivered data',
    actions: [
      ...['toString', '__proto__', 'constructor'].map((key): Action => ({
        family: 'proto',
        platform: 'labvanced',
        route: 'recordTrial',
        namespace: 'web',
        key,
        where: 'form-key',
        value: '1',
        encoded: false,
      })),
      {
        family: 'proto',
        platform: 'mydatahelps',
        route: '',
        namespace: 'app',
        key: 'toString',
        where: 'form-key',
        value: '1',
        encoded: false,
      },
    ],
  },
];
