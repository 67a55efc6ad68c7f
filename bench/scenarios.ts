import { randomUUID } from 'node:crypto';
import { adapters } from '../adapters/index.js';

/**
 * Secrets and per-namespace settings the bench puts into the generated studyhook config. The key
 * names follow each adapter's schemas/<platform>/settings.schema.json; if one changes, change it
 * here (the only place).
 */
export const SECRETS = { prolific: 'bench-prolific-secret', actigraph: 'bench-actigraph-passcode' };
export const NAMESPACE = 'bench';
export const platformConfig: Record<
  string,
  { namespaces: Record<string, Record<string, unknown>> }
> = {
  sensorlogger: { namespaces: { [NAMESPACE]: {} } },
  prolific: { namespaces: { [NAMESPACE]: { secrets: [SECRETS.prolific] } } },
  // why: the upload bench sends up to BENCH_UPLOAD_MB (1 GiB by default); leave room above it.
  labvanced: { namespaces: { [NAMESPACE]: { maxUploadBytes: 64 * 2 ** 30 } } },
  actigraph: { namespaces: { [NAMESPACE]: { auth: 'hmac', passcodes: [SECRETS.actigraph] } } },
};

/** One request as autocannon sends it. */
export interface BuiltRequest {
  method: 'POST';
  path: string;
  headers: Record<string, string>;
  body: string;
}

/** A studyhook route under load: measured only when its adapter is in adapters/index.ts. */
export interface Scenario {
  name: string;
  platform: string;
  /** A fresh request each call: unique ids, so that idempotency keys never collapse the load. */
  build(): BuiltRequest;
}

const json = { 'content-type': 'application/json' };
/** The Origin of the Labvanced player (adapters/labvanced/index.ts allows it by default). */
const LABVANCED = 'https://www.labvanced.com';

/** `req` signed as `platform` signs (the adapter's own sample signer) with `settings` (default: the bench namespace's). */
function signed(
  platform: string,
  req: BuiltRequest,
  settings = platformConfig[platform]!['namespaces']![NAMESPACE],
): BuiltRequest {
  const sign = adapters.find((a) => a.platform === platform)?.sample?.sign;
  if (!sign) throw new Error(`adapter '${platform}' has no sample signer`);
  return { ...req, headers: sign({ ...req, body: Buffer.from(req.body) }, settings).headers };
}
let seq = 0;
const next = (): string => `${process.pid}-${++seq}-${randomUUID().slice(0, 8)}`;

/** About 300 bytes, like the figures in issue #11. */
export function sensorLoggerBody(): string {
  return JSON.stringify({
    studyId: 'study-bench-0001',
    uploadId: `upload-${next()}`,
    secretCode: 'bench-code-0001',
    note: 'x'.repeat(180),
  });
}

export const scenarios: readonly Scenario[] = [
  {
    name: 'Sensor Logger upload webhook',
    platform: 'sensorlogger',
    build: () => ({
      method: 'POST',
      path: `/sensorlogger/${NAMESPACE}`,
      headers: json,
      body: sensorLoggerBody(),
    }),
  },
  {
    name: 'Prolific signed event',
    platform: 'prolific',
    build() {
      return prolific(
        JSON.stringify({
          event_type: 'study.status.change',
          resource_id: `study-${next()}`,
          status: 'AWAITING REVIEW',
          timestamp: new Date().toISOString(),
        }),
        SECRETS.prolific,
      );
    },
  },
  {
    name: 'Labvanced /recordTrial',
    platform: 'labvanced',
    build() {
      const body = JSON.stringify({
        expSessionNr: next(),
        recTaskId: 3,
        trialNr: 1,
        recData: { rt: 512, answer: 'left', correct: true, stimulus: 'img_017.png' },
      });
      // why: the player runs on Labvanced's site and posts cross-origin, so a browser always sends its Origin.
      return {
        method: 'POST',
        path: `/labvanced/${NAMESPACE}/recordTrial`,
        headers: { ...json, origin: LABVANCED },
        body,
      };
    },
  },
  {
    name: 'ActiGraph upload event',
    platform: 'actigraph',
    build() {
      const body = JSON.stringify({
        status: 'completed',
        firstEpochUTC: '2018-03-08T00:20:00.0000000',
        firstEpochSubjectTZ: '2018-03-08T05:50:00.0000000',
        lastEpochUTC: '2018-03-08T00:34:00.0000000',
        lastEpochSubjectTZ: '2018-03-08T06:04:00.0000000',
        uploadId: next(),
        studyId: '8',
        subjectId: '2358',
      });
      return signed('actigraph', {
        method: 'POST',
        path: `/actigraph/${NAMESPACE}`,
        body,
        headers: { ...json, 'x-actigraph-event': 'upload', 'x-actigraph-delivery': randomUUID() },
      });
    },
  },
];

/**
 * Prolific requests for `--forged` (bench/forged.ts). `prolific-forged` is the valid scenario's body
 * signed with a key the gateway does not know; `-170k` ones have a 170 KiB body (the review's attack,
 * issue #22 item 3; above the json.dumps fallback's 16 KiB), valid (signed over the raw bytes, a new
 * resource id each) or forged.
 */
const forgedBuilders: Record<string, () => BuiltRequest> = {
  'prolific-forged': () =>
    prolific(
      JSON.stringify({
        event_type: 'study.status.change',
        resource_id: `study-${next()}`,
        status: 'AWAITING REVIEW',
        timestamp: new Date().toISOString(),
      }),
      'not-the-secret',
    ),
  'prolific-170k': () => prolific(largeBody(`study-${next()}`), SECRETS.prolific),
  'prolific-forged-170k': () => prolific(largeBody('study-forged'), 'not-the-secret'),
};
let filler: string | undefined;

function largeBody(resourceId: string): string {
  filler ??= JSON.stringify(Array.from({ length: 1700 }, (_, i) => ({ i, note: 'x'.repeat(80) })));
  return `{"event_type":"study.status.change","resource_id":${JSON.stringify(resourceId)},"status":"ACTIVE","metadata":{"filler":${filler}}}`;
}

function prolific(body: string, key: string): BuiltRequest {
  return signed(
    'prolific',
    { method: 'POST', path: `/prolific/${NAMESPACE}`, body, headers: json },
    { secrets: [key] },
  );
}

/** The multipart upload route (Labvanced `/file_upload`), if that adapter exists. */
export const uploadRoute = {
  platform: 'labvanced',
  path: `/labvanced/${NAMESPACE}/file_upload`,
  field: 'myFile',
};

/** Builders by key, for the load-generator child (skeletons get the Sensor Logger body). */
export function builderFor(key: string): () => BuiltRequest {
  if (key === 'skeleton')
    return () => ({
      method: 'POST',
      path: `/sensorlogger/${NAMESPACE}`,
      headers: json,
      body: sensorLoggerBody(),
    });
  const forged = forgedBuilders[key];
  if (forged) return forged;
  const s = scenarios.find((x) => x.platform === key);
  if (!s) throw new Error(`no scenario '${key}'`);
  return s.build;
}
