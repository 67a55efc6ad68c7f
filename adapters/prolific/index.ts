import { randomBytes } from 'node:crypto';
import { defineAdapter, defineRoute, type EventDraft } from '../../src/adapter/types.js';
import { defineCommand } from '../../src/command.js';
import { prolificEventSchema } from '../../src/generated/prolific-event.js';
import {
  prolificSettingsSchema,
  type ProlificSettings,
} from '../../src/generated/prolific-settings.js';
import { createProlificClient, type ProlificClientOptions } from './client.js';
import { prolificSample } from './sample.js';
import { PROLIFIC_USAGE } from './usage.js';
import { prolificSignedForm, signedBodySha256, timestampMs } from './verify.js';
import { prolificStudies, prolificSubmissions } from './export.js';
import { prolificStudy } from './study.js';

/** `submission.status.change` → `prolific.submission.status.change`; odd characters of unknown types become `_`. */
function eventType(eventTypeName: string): string {
  const clean = eventTypeName
    .toLowerCase()
    .replace(/[^a-z0-9_.]/g, '_')
    .replace(/\.{2,}/g, '.')
    .replace(/^\.|\.$/g, '');
  return `prolific.${clean || 'unknown'}`;
}

/**
 * Prolific webhooks: `POST /prolific/<ns>` for every event type (submission.status.change,
 * study.status.change, study.progress.change, study.has_high_return_rate and any other), signed with
 * the workspace secret (../shared/platforms/prolific.md).
 */
export default defineAdapter<ProlificSettings>({
  platform: 'prolific',
  study: prolificStudy,
  exportTables: [prolificSubmissions, prolificStudies],
  settingsSchema: prolificSettingsSchema,
  secretHeaders: ['x-prolific-request-signature'],
  retriesRefusedCalls: true,
  routes: [
    defineRoute({
      path: '',
      // why: the Content-Type of deliveries is not documented; parse JSON whatever it says (prolific.md open question 3).
      body: 'json-any',
      maxBytes: 256 * 1024,
      verify(req, settings) {
        const form = prolificSignedForm(req, settings);
        // why: normalise reports which form was signed; it cannot check again on a republished request, whose signature is not kept.
        return form !== undefined && { signedform: form };
      },
      // why: the signature covers timestamp + body, whatever X-Event-ID says; a captured request resent
      // under another (or no) X-Event-ID is the same signed request (issue: replays under a new id).
      replayKey: (req, { bodySha256, verified }) => {
        const sig = req.headers['x-prolific-request-signature'];
        const ts = req.headers['x-prolific-request-timestamp'];
        return sig && ts !== undefined
          ? [ts, sig, signedBodySha256(req, bodySha256, verified)]
          : undefined;
      },
      schema: prolificEventSchema,
      // why: a signed body that fails validation is kept and answered 2xx, because Prolific retries any
      // non-2xx for 24 hours and disables a subscription after 5 days of failures (prolific.md open question 7).
      onInvalid: 'quarantine',
      invalidReply: () => ({ status: 202, body: { ok: true, quarantined: true } }),
      normalise({ payload, request, verified }) {
        const p = payload;
        const h = request.headers;
        // why: Prolific does not keep order; X-Timestamp ("when the event was sent") lets sinks drop stale
        // changes (docs: handling-event-order-with-x-timestamp). Kept as received; the signing timestamp stands in.
        const sent = h['x-timestamp'] ?? h['x-prolific-request-timestamp'];
        const sentMs = timestampMs(sent);
        const isStudy = p.event_type.startsWith('study.');
        const extensions: Record<string, string> = { signedform: verified['signedform'] ?? 'raw' };
        if (sent !== undefined) extensions['prolifictimestamp'] = sent;
        if (typeof p.status === 'string') extensions['status'] = p.status;
        // why: fields set one by one on one object: this runs for every delivery, and spread copies cost more than the rest of normalise.
        const draft: EventDraft = {
          type: eventType(p.event_type),
          subject: p.resource_id,
          extensions,
          data: p,
        };
        if (isStudy) draft.studyid = p.resource_id;
        if (p.participant_id !== undefined) draft.participantid = p.participant_id;
        if (sentMs !== undefined) draft.time = new Date(sentMs).toISOString();
        // why: X-Event-ID is the same on every retry (docs: idempotency-and-the-x-event-id-header); without it
        // the signed timestamp and the body identify the delivery.
        const eventId = h['x-event-id'];
        if (eventId) draft.id = eventId;
        else draft.key = [h['x-prolific-request-timestamp'] ?? '', request.body.toString('utf8')];
        return [draft];
      },
      reply: (events) => ({ status: 200, body: { ok: true, events: events.map((e) => e.id) } }),
    }),
  ],
  createClient: ({ config }) => createProlificClient(config as ProlificClientOptions),
  sample: prolificSample,
  starter: {
    settings: [
      "# Your workspace's webhook secret: POST /api/v1/hooks/secrets/ (docs/platforms/prolific.md).",
      '# init wrote a random placeholder so that `studyhook sample prolific` works.',
      'secrets: ["${PROLIFIC_WEBHOOK_SECRET}"]',
    ],
    env: [
      {
        name: 'PROLIFIC_WEBHOOK_SECRET',
        value: () => randomBytes(32).toString('base64url'),
        comment:
          "Replace with your Prolific workspace's webhook secret once you register the hook.",
      },
    ],
  },
  commands: [
    defineCommand({
      name: 'prolific',
      usage: PROLIFIC_USAGE,
      summary:
        'subscribe the gateway to Prolific webhooks, list or delete subscriptions, backfill missed events',
      // why: loaded when run, so that loading the registry does not load the queues and the Prolific API client.
      run: async (args, ctx) => {
        if (!ctx)
          throw new Error(
            'studyhook prolific needs the CLI context (the config loader and the adapter registry)',
          );
        return (await import('./command.js')).runProlificCommand(args, ctx);
      },
    }),
  ],
});
