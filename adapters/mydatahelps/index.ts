import { randomBytes } from 'node:crypto';
import { maskSecret } from '../../src/util/mask.js';
import { defineAdapter, defineRoute, type IncomingRequest } from '../../src/adapter/types.js';
import { mydatahelpsCallbackSchema } from '../../src/generated/mydatahelps-callback.js';
import {
  mydatahelpsSettingsSchema,
  type MyDataHelpsSettings,
} from '../../src/generated/mydatahelps-settings.js';
import { basicVerifier, equalsAny } from '../../src/verify/presets.js';
import { canonicalKeys } from './canonical-keys.js';
import { createMyDataHelpsClient } from './client.js';
import { mydatahelpsSample } from './sample.js';
import { mydatahelpsSchedules, mydatahelpsSurveys } from './export.js';
import { mydatahelpsStudy } from './study.js';

// why: a Map, so an EventType named like an Object.prototype member (`constructor`) is not found in it.
const TYPES = new Map([
  ['surveysubmitted', 'mydatahelps.survey.submitted'],
  ['scheduletriggered', 'mydatahelps.schedule.triggered'],
]);

const basic = basicVerifier<MyDataHelpsSettings>((s) => s.basicAuth ?? []);

// why: MyDataHelps documents no signature, secret or header (shared/platforms/mydatahelps.md,
// "Authentication of incoming calls"), so the only proof is an unguessable token in the URL we
// registered, or Basic credentials; without either the namespace must say `open: true`.
function verify(req: IncomingRequest, settings: MyDataHelpsSettings): boolean | Promise<boolean> {
  const tokens = settings.tokens ?? [];
  if (tokens.length === 0 && !settings.basicAuth?.length) return settings.open === true;
  const token = req.params['token'];
  if (token !== undefined && equalsAny(token, tokens)) return true;
  return settings.basicAuth?.length ? basic(req, settings) : false;
}

function text(value: unknown): string | undefined {
  return (typeof value === 'string' && value !== '') || typeof value === 'number'
    ? String(value)
    : undefined;
}

const callback = defineRoute({
  path: '',
  // why: the docs only say "JSON payload" (no Content-Type documented): JSON is read whatever the type, urlencoded when declared.
  body: 'json-or-form' as const,
  maxBytes: 256 * 1024,
  verify,
  schema: mydatahelpsCallbackSchema,
  // why: MyDataHelps documents no retries, so a call our schema dislikes is kept, never dropped.
  onInvalid: 'quarantine' as const,
  normalise({ payload, settings }) {
    // why: PascalCase and camelCase samples both exist for the same event (MDH-DEV-SCHED versions A and B).
    const data = canonicalKeys(payload);
    // why: webhooks created before the rename send PatientIdentifier / PatientID (MDH-SUP-DEV).
    if (data.ParticipantIdentifier === undefined && data.PatientIdentifier !== undefined)
      data.ParticipantIdentifier = data.PatientIdentifier;
    if (data.ParticipantID === undefined && data.PatientID !== undefined)
      data.ParticipantID = data.PatientID;
    const eventType = String(data.EventType);
    const surveyResultId = text(data.SurveyResultID);
    const participant = text(data.ParticipantIdentifier) ?? text(data.ParticipantID);
    const study = text(data.ProjectID);
    const subject = surveyResultId ?? text(data.ScheduleID);
    return [
      {
        type: TYPES.get(eventType.toLowerCase()) ?? `mydatahelps.${eventType.toLowerCase()}`,
        // why: no delivery id is documented. A survey result is submitted once, so its id is the identity;
        // a schedule can fire again for the same participant with the same body, so it gets a fresh id.
        ...(surveyResultId !== undefined && { key: ['survey-result', surveyResultId] }),
        ...(subject !== undefined && { subject }),
        ...(participant !== undefined && { participantid: participant }),
        ...(study !== undefined && { studyid: study }),
        // why: no field marks a "Send Sample" call as test data; the namespace registered for Test mode does.
        ...(settings.test === true && { extensions: { testmode: true } }),
        data,
      },
    ];
  },
});

/**
 * MyDataHelps webhooks (Survey Submitted, Schedule Triggered): `POST /mydatahelps/<ns>/<token>`
 * (shared/platforms/mydatahelps.md). The base URL `/mydatahelps/<ns>` serves open or Basic-auth namespaces.
 */
export default defineAdapter<MyDataHelpsSettings>({
  platform: 'mydatahelps',
  study: mydatahelpsStudy,
  exportTables: [mydatahelpsSurveys, mydatahelpsSchedules],
  settingsSchema: mydatahelpsSettingsSchema,
  secretParams: ['token'],
  routes: [callback, { ...callback, path: ':token' }],
  createClient: ({ config }) => createMyDataHelpsClient(config),
  sample: mydatahelpsSample,
  // why: MyDataHelps signs nothing, so its URL carries the secret (a token, or basic auth): shown masked.
  register: ({ base, origin, path }, settings) => {
    const token = settings.tokens?.[0];
    const basic = settings.basicAuth?.[0];
    if (token) return { url: `${origin}${path}/${maskSecret(token)}` };
    if (basic)
      return {
        url: `${base.protocol}//${encodeURIComponent(basic.username)}:********@${base.host}${path}`,
      };
    return {};
  },
  starter: {
    settings: [
      '# MyDataHelps signs nothing: the registered URL carries this token (/mydatahelps/pilot/<token>).',
      'tokens: ["${MYDATAHELPS_TOKEN}"]',
    ],
    env: [{ name: 'MYDATAHELPS_TOKEN', value: () => randomBytes(24).toString('hex') }],
  },
});
