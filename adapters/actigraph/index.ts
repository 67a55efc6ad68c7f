import { randomBytes } from 'node:crypto';
import { defineAdapter, defineRoute, type Verifier } from '../../src/adapter/types.js';
import { StudyhookError } from '../../src/errors.js';
import { actigraphEventSchema } from '../../src/generated/actigraph-event.js';
import {
  actigraphSettingsSchema,
  type ActiGraphSettings,
} from '../../src/generated/actigraph-settings.js';
import { actigraphUploadSchema } from '../../src/generated/actigraph-upload.js';
import { parseJson } from '../../src/http/parse-body.js';
import { own } from '../../src/util/own.js';
import {
  basicVerifier,
  bearerVerifier,
  hasBom,
  hmacVerifier,
  ipAllowVerifier,
} from '../../src/verify/presets.js';
import { sha256Hex } from '../../src/event/build-event.js';
import { createActiGraphClient } from './client.js';
import { normaliseActiGraph } from './normalise.js';
import { actigraphSample } from './sample.js';
import { actigraphUploads } from './export.js';
import { actigraphStudy } from './study.js';

const hmac = hmacVerifier<ActiGraphSettings>({
  header: 'x-actigraph-signature',
  secrets: (s) => s.passcodes ?? [],
  // why: "compute the HMAC over the raw bytes with a leading UTF-8 BOM stripped; if that fails and a BOM was present, also try with it" (actigraph.md, open question 3).
  stripBom: true,
});
const byAuth: Record<ActiGraphSettings['auth'], Verifier<ActiGraphSettings>> = {
  hmac,
  basic: basicVerifier((s) => s.basic ?? []),
  bearer: bearerVerifier((s) => s.tokens ?? []),
  none: () => true, // the allow-list below is then required by the settings schema
};
const allowIp = ipAllowVerifier<ActiGraphSettings>((s) => s.allowIps ?? []);

/** The event name from `X-ActiGraph-Event` (any case), '' when missing. */
function eventOf(headers: Record<string, string | undefined>): string {
  return (headers['x-actigraph-event'] ?? '').trim().toLowerCase();
}

/**
 * ActiGraph CentrePoint webhooks: `POST /actigraph/<ns>` for the validation handshake and every event,
 * dispatched on `X-ActiGraph-Event` (../shared/platforms/actigraph.md).
 */
export default defineAdapter<ActiGraphSettings>({
  platform: 'actigraph',
  study: actigraphStudy,
  exportTables: [actigraphUploads],
  settingsSchema: actigraphSettingsSchema,
  secretHeaders: ['x-actigraph-signature', 'x-actigraph-hook-secret'],
  retriesRefusedCalls: true,
  routes: [
    defineRoute({
      path: '',
      // why: Content-Type varies (with or without charset); the core strips a leading UTF-8 BOM before parsing (actigraph.md, open question 3).
      body: 'json-any',
      maxBytes: 1024 * 1024,
      async verify(req, settings) {
        if (settings.allowIps && !(await allowIp(req, settings))) return false;
        const event = eventOf(req.headers);
        // why: whether validation carries credentials is not documented; the doc says not to require them (validating_webhooks.md, open question 1).
        if (event === 'validation') return true;
        if (!(await (own(byAuth, settings.auth)?.(req, settings) ?? false))) return false;
        // why: every delivery names its event; without the header there is nothing to dispatch on, so nothing is kept.
        if (!event) throw new StudyhookError('SH_BAD_BODY', 'Missing X-ActiGraph-Event header');
        return true;
      },
      // why: an HMAC signature covers the body alone, so X-ActiGraph-Delivery can be changed on a
      // captured delivery; with Basic or Bearer there is no signature, only the credentials.
      // The body is keyed without a leading BOM: the HMAC check also accepts the body with one added in
      // front of the signed bytes (stripBom), so a resent delivery with a BOM was delivered again.
      replayKey: (req, { bodySha256 }) => {
        const sig = req.headers['x-actigraph-signature'];
        if (!sig) return undefined;
        return [
          eventOf(req.headers),
          sig,
          hasBom(req.body) ? sha256Hex(req.body.subarray(3)) : bodySha256,
        ];
      },
      handshake(req) {
        if (eventOf(req.headers) !== 'validation') return undefined;
        let code = req.headers['x-actigraph-hook-secret']?.trim();
        if (!code) {
          try {
            code = String(
              (parseJson(req.body, undefined) as { ValidationCode?: unknown } | null)
                ?.ValidationCode ?? '',
            ).trim();
          } catch {
            code = '';
          }
        }
        // why: validation passes only on 200 with X-ActiGraph-Hook-Secret echoing the code (validating_webhooks.md).
        // A validation request is not authenticated, so one without a usable code is refused, never kept.
        if (!code || !/^[\x21-\x7e]{1,256}$/.test(code))
          throw new StudyhookError('SH_BAD_BODY', 'Validation request without a validation code');
        return { status: 200, headers: { 'X-ActiGraph-Hook-Secret': code } };
      },
      // why: only the upload event has a documented required shape; any other event is kept as sent (an object).
      schema: (req) =>
        eventOf(req.headers) === 'upload' ? actigraphUploadSchema : actigraphEventSchema,
      // why: CentrePoint retries a failed delivery a couple of times, then after 24 h and 48 h (actigraph.md "Retries");
      // a body that fails the schema is kept and answered 200, since repeating it cannot help.
      onInvalid: 'quarantine',
      invalidReply: () => ({ status: 200 }),
      normalise: ({ payload, request }) => normaliseActiGraph(request, payload),
      // why: CentrePoint expects exactly 200; the recorded real receiver answered with an empty body (webhooks.md history).
      reply: () => ({ status: 200 }),
    }),
  ],
  createClient: ({ config }) => createActiGraphClient(config),
  sample: actigraphSample,
  starter: {
    settings: [
      '# CentrePoint webhook, Authentication Type "Keyed-Hash (HMAC)": paste this passcode there.',
      'auth: hmac',
      'passcodes: ["${ACTIGRAPH_PASSCODE}"]',
    ],
    env: [{ name: 'ACTIGRAPH_PASSCODE', value: () => randomBytes(24).toString('hex') }],
  },
});
