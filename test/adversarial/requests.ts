import qs from 'qs';
import { adapters } from '../../adapters/index.js';
import type { PlatformSample, SampleRequest } from '../../src/adapter/sample.js';
import { SECRETS, settingsOf } from './config.js';
import type { Delivery, WireRequest } from './wire.js';

/** What a step promises about its reply. */
export type Expectation =
  /** Built by the project's sample builders for a configured namespace: must be acknowledged (2xx). */
  | 'valid'
  /** Wrong or missing credentials, or a namespace that is not configured: never 2xx, stored nowhere. */
  | 'forged'
  /** Anything but a 5xx; if acknowledged, it must be delivered. */
  | 'any';

/** One request of an action, before the executor gives it a request id. */
export interface PlannedStep {
  label: string;
  wire: WireRequest;
  expect: Expectation;
  /** A resend of a signed request: the label of the original step of the same action. */
  replayOf?: string;
  /** A key added at the top level of the payload: delivered data must keep it (no silent drop). */
  addedKey?: string;
  /**
   * Correctly signed (or coded, or sent to the token URL) whatever its body: the platform itself sent
   * it, so if it is refused for anything but its size it must be kept in quarantine, not dropped.
   */
  authentic?: boolean;
}

/** Stages run one after the other; the steps of one stage are sent at once. */
export type Plan = PlannedStep[][];

let serial = 0;
/** A number no other request of this process uses. */
export function unique(): string {
  serial += 1;
  return `${Date.now() % 1e9}${String(serial).padStart(6, '0')}`;
}

function builderOf(platform: string): PlatformSample {
  const builder = adapters.find((a) => a.platform === platform)?.sample;
  if (!builder) throw new Error(`no sample builder for ${platform}`);
  return builder;
}

/**
 * A request built by the project's own sample builder (the adapter's `sample`) for `platform`/`route`
 * on `namespace` (`event`: one of the kinds of call the builder sends, default its first).
 * why: the builders draw Labvanced session numbers and ActiGraph upload ids from a million values,
 * so two samples of a long run would share an identity (or, for ActiGraph, a whole signed body) by
 * chance; such a pair is not two platform calls that must both arrive. Those ids are made unique here.
 */
export function sample(
  platform: string,
  route: string,
  namespace: string,
  event?: string,
): SampleRequest {
  const s = builderOf(platform).build({
    route,
    namespace,
    settings: settingsOf(platform, namespace),
    ...(event !== undefined && { event }),
  });
  if (platform === 'labvanced' && route === 'file_upload') {
    return {
      ...s,
      body: Buffer.from(
        s.body.toString('latin1').replace(/(name="expSessionNr"\r\n\r\n)\d+/, `$1${unique()}`),
        'latin1',
      ),
    };
  }
  if (platform === 'labvanced')
    return withBody(
      platform,
      s,
      Buffer.from(JSON.stringify({ ...payloadOf(s), expSessionNr: Number(unique()) })),
    );
  if (platform === 'actigraph' && event !== 'validation')
    return withBody(
      platform,
      s,
      Buffer.from(JSON.stringify({ ...payloadOf(s), uploadId: unique() })),
    );
  return s;
}

/** Every (platform, route, kind of call) the sample builders know. */
export const SAMPLE_TARGETS: readonly { platform: string; route: string; event?: string }[] =
  adapters.flatMap(({ platform, sample: b }) =>
    !b
      ? []
      : b.routes.flatMap((route) =>
          (b.events ?? [undefined]).map((event) => ({
            platform,
            route,
            ...(event !== undefined && { event }),
          })),
        ),
  );

export function toWire(s: SampleRequest, delivery: Delivery = { kind: 'whole' }): WireRequest {
  return {
    method: s.method,
    path: s.path,
    headers: Object.entries(s.headers),
    body: s.body,
    framing: 'length',
    delivery,
  };
}

/** Headers of `s` with `name` replaced (or removed when `value` is undefined); names compared case-insensitively. */
export function setHeader(
  s: SampleRequest,
  name: string,
  value: string | undefined,
): SampleRequest {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(s.headers))
    if (k.toLowerCase() !== name.toLowerCase()) headers[k] = v;
  if (value !== undefined) headers[name] = value;
  return { ...s, headers };
}

/**
 * `s` with a new body, signed again as its platform signs (Prolific, ActiGraph hmac) with `secret`
 * (default: the configured one), so that only the body differs from a valid request.
 */
export function withBody(
  platform: string,
  s: SampleRequest,
  body: Buffer,
  contentType?: string,
  secret?: string,
): SampleRequest {
  let out: SampleRequest = { ...s, body };
  if (contentType !== undefined) out = setHeader(out, 'content-type', contentType);
  if (platform === 'prolific')
    return builderOf(platform).sign!(out, { secrets: [secret ?? SECRETS.prolific] });
  if (platform === 'actigraph' && s.headers['x-actigraph-signature'] !== undefined)
    return builderOf(platform).sign!(out, {
      auth: 'hmac',
      passcodes: [secret ?? SECRETS.actigraph],
    });
  return out;
}

/** The JSON payload of a sample (file uploads have none). */
export function payloadOf(s: SampleRequest): Record<string, unknown> | undefined {
  if (!/json/.test(s.headers['content-type'] ?? '')) return undefined;
  return JSON.parse(s.body.toString('utf8')) as Record<string, unknown>;
}

/** True when a request to `platform`/`namespace` with this payload is authenticated (signature, token URL, or the Study code in the body). */
export function isAuthentic(platform: string, namespace: string, hasCode: boolean): boolean {
  if (platform === 'prolific' || platform === 'actigraph' || platform === 'mydatahelps')
    return true;
  return platform === 'sensorlogger' && namespace === 'locked' && hasCode;
}

/** Platforms whose routes also take `application/x-www-form-urlencoded`. */
export const FORM_PLATFORMS = ['labvanced', 'mydatahelps'];

export function formBody(payload: Record<string, unknown>): Buffer {
  return Buffer.from(qs.stringify(payload));
}

export const FORM_TYPE = 'application/x-www-form-urlencoded';
