import type { EventDraft, Reply, RouteSpec } from '../../src/adapter/types.js';
import { defineAdapter } from '../../src/adapter/types.js';
import type { SchemaId } from '../../src/schema-id.js';
import { labvancedFileUploadSchema } from '../../src/generated/labvanced-file-upload.js';
import { labvancedSessionAssignedSchema } from '../../src/generated/labvanced-session-assigned.js';
import { labvancedSessionFailedSchema } from '../../src/generated/labvanced-session-failed.js';
import { labvancedSessionFinishedSchema } from '../../src/generated/labvanced-session-finished.js';
import { labvancedSessionMetaSchema } from '../../src/generated/labvanced-session-meta.js';
import { labvancedSessionStartedSchema } from '../../src/generated/labvanced-session-started.js';
import { labvancedTaskStartedSchema } from '../../src/generated/labvanced-task-started.js';
import { labvancedTrialSchema } from '../../src/generated/labvanced-trial.js';
import {
  labvancedSettingsSchema,
  type LabvancedSettings,
} from '../../src/generated/labvanced-settings.js';
import { labvancedSample } from './sample.js';
import { coerceFields, hashOf, LABVANCED_ORIGIN, safeFileName, text, toTime } from './values.js';
import { labvancedFiles } from './export-files.js';
import { labvancedScan } from './export-scan.js';
import { labvancedSessions } from './export-sessions.js';
import { labvancedTrials } from './export-trials.js';
import { labvancedStudy } from './study.js';

type Data = Record<string, unknown>;
const ok: Reply = { status: 200, body: { success: true } };

/** Who the participant is: the URL's subject_code, else the crowdsourcing worker id (spelling as in the API). */
function participant(p: Data): string | undefined {
  const meta = p['var_data'] as Data | undefined;
  return (
    text(p['subject_code']) ??
    (typeof meta === 'object' ? text(meta['crowdsourcinSubjId']) : undefined)
  );
}

function draft(
  type: string,
  key: readonly (string | number)[],
  p: Data,
  time?: unknown,
): EventDraft {
  const sessionid = text(p['expSessionNr']);
  const studyid = text(p['expId']);
  const participantid = participant(p);
  const when = toTime(time);
  return {
    type,
    key,
    data: p,
    ...(sessionid !== undefined && { sessionid, subject: sessionid }),
    ...(studyid !== undefined && { studyid }),
    ...(participantid !== undefined && { participantid }),
    ...(when !== undefined && { time: when }),
  };
}

/**
 * A JSON-or-urlencoded data route. Every one is fire-and-forget except /recordTrial, so an invalid
 * payload is kept in quarantine and acknowledged like a valid one.
 */
function dataRoute<P extends object>(
  path: string,
  schema: SchemaId<P>,
  toEvent: (p: Data) => EventDraft,
): RouteSpec<LabvancedSettings, P> {
  return {
    path,
    // why: the docs say JSON, the 2020 player sends jQuery's urlencoded bracket notation (labvanced.md "Encoding sent by the 2020 player").
    body: 'json-or-form',
    // why: a 413 on /recordTrial ends the participant's session (labvanced.md "/recordTrial"), so the limit sits far above
    // any real trial (kilobytes), with room for server.parseLimits' 250,000 form fields of 64-byte keys: a body with too
    // many values is kept in quarantine and answered success before one with too many bytes is refused.
    maxBytes: 16 * 1024 * 1024,
    cors: true,
    schema,
    // why: the player keeps no copy and /recordTrial retries forever on anything but success (labvanced.md "Responses, timeouts, retries").
    onInvalid: 'quarantine',
    invalidReply: () => ok,
    normalise: ({ payload }) => [toEvent(coerceFields(payload))],
    reply: () => ok,
  };
}

// why: no route is authenticated and session numbers count up, so an id from the session alone lets
// a forged call sent first turn the participant's real one into a "duplicate". The body's hash
// (the same for its JSON and urlencoded forms) keeps retries of one request together and nothing else.
const session =
  (type: string, route: string, timeField?: string) =>
  (p: Data): EventDraft =>
    draft(
      type,
      [String(p['expSessionNr']), route, hashOf(p)],
      p,
      timeField === undefined ? undefined : p[timeField],
    );

/**
 * Labvanced external data storage: the participant's browser posts each route to
 * `/labvanced/<ns>/<route>` (../shared/platforms/labvanced.md). No authentication exists; the
 * namespace's Origin allow-list is the only gate.
 */
export default defineAdapter<LabvancedSettings>({
  platform: 'labvanced',
  study: labvancedStudy,
  // why: sessions count the trials, so the trials' table comes first.
  exportTables: [labvancedTrials, labvancedSessions, labvancedFiles],
  exportScan: labvancedScan,
  settingsSchema: labvancedSettingsSchema,
  defaultNamespaces: { '*': {} },
  allowedOrigins: (settings) => settings.allowedOrigins ?? [LABVANCED_ORIGIN],
  routes: [
    dataRoute(
      'startFirstPlayerSession',
      labvancedSessionAssignedSchema,
      session('labvanced.session.assigned', 'startFirstPlayerSession'),
    ),
    dataRoute(
      'setPlayerSessionStartedTime',
      labvancedSessionStartedSchema,
      session('labvanced.session.started', 'setPlayerSessionStartedTime', 'start_time'),
    ),
    dataRoute(
      'addMetaInfo',
      labvancedSessionMetaSchema,
      session('labvanced.session.meta', 'addMetaInfo'),
    ),
    dataRoute('recordStartTask', labvancedTaskStartedSchema, (p) =>
      draft(
        'labvanced.task.started',
        [String(p['expSessionNr']), String(p['recTaskId']), hashOf(p)],
        p,
        p['start_time'],
      ),
    ),
    dataRoute('recordTrial', labvancedTrialSchema, (p) => {
      // why: the docs spell it trailNr, the player sends trialNr (labvanced.md "Docs vs 2020 player").
      const trialNr = p['trialNr'] ?? p['trailNr'];
      // why: one trial may be recorded twice with different data (open question 6), so the data's hash is part of the identity.
      const d = draft(
        'labvanced.trial.recorded',
        [String(p['expSessionNr']), String(p['recTaskId']), String(trialNr), hashOf(p['recData'])],
        p,
      );
      if (trialNr !== undefined) d.extensions = { trialnr: String(trialNr) };
      return d;
    }),
    dataRoute(
      'finishExpSession',
      labvancedSessionFinishedSchema,
      session('labvanced.session.finished', 'finishExpSession', 'end_time'),
    ),
    dataRoute(
      'errExpSession',
      labvancedSessionFailedSchema,
      session('labvanced.session.failed', 'errExpSession'),
    ),
    {
      // why: /startExpPlayer only ever goes to Labvanced's own server (docs 3.1); answer a stray one harmlessly.
      path: 'startExpPlayer',
      body: 'none',
      maxBytes: 1024 * 1024,
      cors: true,
      normalise: () => [],
      reply: () => ok,
    },
    {
      path: 'file_upload',
      body: 'multipart',
      // why: the player refuses files over 100 MB itself; the gateway's cap is ten times that (labvanced.md "/file_upload").
      maxBytes: (settings) => settings.maxUploadBytes ?? 1024 * 1024 * 1024,
      cors: true,
      schema: labvancedFileUploadSchema,
      onInvalid: 'quarantine',
      normalise({ payload }) {
        const { fields, files } = payload;
        const session = fields['expSessionNr'] ?? '';
        const fileName = safeFileName(
          fields['newFileName'],
          `upload-${safeFileName(session, 'session')}`,
        );
        const file = { ...files.myFile, name: fileName };
        // why: the file's sha256 is in the id, so neither a forged upload under a guessed session nor a
        // re-recording under the same name can take the place of other bytes; a retry of the same bytes collapses.
        return [
          draft('labvanced.file.uploaded', [session, fields['newFileName'] ?? '', file.sha256], {
            ...coerceFields(fields),
            expSessionNr: session,
            fileName,
            file,
          }),
        ];
      },
      // why: without {file_guid, file_name} the experiment's onUploadComplete trigger never fires (docs 3.9).
      reply: (events) => {
        const e = events[0];
        return {
          status: 200,
          body: { file_guid: e?.id, file_name: (e?.data as Data | undefined)?.['fileName'] },
        };
      },
    },
  ],
  sample: labvancedSample,
  // why: Labvanced's study settings ask for the URL in three fields; its player joins them as <IP>:<Port><URL Path>.
  register: ({ base, origin, path }) => ({
    url: `${origin}${path}`,
    fields: [
      ['IP', `${base.protocol}//${base.hostname}`],
      ['Port', base.port || (base.protocol === 'https:' ? '443' : '80')],
      ['URL Path', path],
    ],
  }),
  starter: {
    settings:
      '{}                    # browsers from https://www.labvanced.com may post (allowedOrigins)',
  },
});
