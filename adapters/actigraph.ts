import { defineAdapter, type Verifier } from '../src/adapter/types.js';
import type { ActiGraphSettings } from '../src/generated/actigraph-settings.js';
import { own } from '../src/util/own.js';
import { basicVerifier, bearerVerifier, hmacVerifier, ipAllowVerifier } from '../src/verify/presets.js';
import { createActiGraphClient } from './actigraph/client.js';
import { normaliseActiGraph, parseActiGraphBody } from './actigraph/normalise.js';

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

function isValidation(headers: Record<string, string | undefined>): boolean {
  return (headers['x-actigraph-event'] ?? '').trim().toLowerCase() === 'validation';
}

/**
 * ActiGraph CentrePoint webhooks: `POST /actigraph/<ns>` for the validation handshake and every event,
 * dispatched on `X-ActiGraph-Event` (../shared/platforms/actigraph.md).
 */
export default defineAdapter<ActiGraphSettings>({
  platform: 'actigraph',
  settingsSchema: 'studyhook/actigraph/settings',
  secretHeaders: ['x-actigraph-signature', 'x-actigraph-hook-secret'],
  routes: [{
    path: '',
    // why: the body may start with a UTF-8 BOM and Content-Type varies (with or without charset); normalise parses the raw bytes itself.
    body: 'none',
    maxBytes: 1024 * 1024,
    verify(req, settings) {
      if (settings.allowIps && !allowIp(req, settings)) return false;
      // why: whether validation carries credentials is not documented; the doc says not to require them (validating_webhooks.md, open question 1).
      if (isValidation(req.headers)) return true;
      return own(byAuth, settings.auth)?.(req, settings) ?? false;
    },
    handshake(req) {
      if (!isValidation(req.headers)) return undefined;
      let code = req.headers['x-actigraph-hook-secret']?.trim();
      if (!code) {
        try { code = String((parseActiGraphBody(req.body) as { ValidationCode?: unknown }).ValidationCode ?? '').trim(); } catch { code = ''; }
      }
      // why: validation passes only on 200 with X-ActiGraph-Hook-Secret echoing the code (validating_webhooks.md).
      return code && /^[\x21-\x7e]{1,256}$/.test(code) ? { status: 200, headers: { 'X-ActiGraph-Hook-Secret': code } } : undefined;
    },
    normalise: ({ request }) => normaliseActiGraph(request),
    // why: CentrePoint expects exactly 200; the recorded real receiver answered with an empty body (webhooks.md history).
    reply: () => ({ status: 200 }),
  }],
  createClient: ({ config }) => createActiGraphClient(config),
});
