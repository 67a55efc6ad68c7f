import { randomBytes } from 'node:crypto';
import { defineAdapter, defineRoute } from '../../src/adapter/types.js';
import {
  sensorloggerSettingsSchema,
  type SensorLoggerSettings,
} from '../../src/generated/sensorlogger-settings.js';
import { sensorloggerUploadSchema } from '../../src/generated/sensorlogger-upload.js';
import { parseJson } from '../../src/http/parse-body.js';
import { REDACTED } from '../../src/quarantine/redact-raw.js';
import { equalsAny } from '../../src/verify/presets.js';
import { createSensorLoggerClient } from './client.js';
import sensorloggerFetch from './fetch-sink.js';
import { sensorloggerSample } from './sample.js';
import { sensorloggerUploads } from './export.js';
import { sensorloggerStudy } from './study.js';

/**
 * Sensor Logger Study webhooks: `POST /sensorlogger/<ns>` with `{studyId, uploadId, secretCode}`,
 * called once per recording and never retried (../shared/platforms/sensorlogger.md).
 */
export default defineAdapter<SensorLoggerSettings>({
  platform: 'sensorlogger',
  study: sensorloggerStudy,
  exportTables: [sensorloggerUploads],
  settingsSchema: sensorloggerSettingsSchema,
  defaultNamespaces: { '*': {} },
  secretFields: ['secretCode'],
  routes: [
    defineRoute({
      path: '',
      // why: the Content-Type of the call is not documented; the demo parses JSON whatever it is (STUDY_WEBHOOKS.md).
      body: 'json-any',
      maxBytes: 64 * 1024,
      // why: there is no signature; the only secret is the Study code in the body. Compare it when the namespace lists codes.
      // Anything but an object whose own string `secretCode` matches (null, an array, unreadable JSON) is refused, so nothing unverified is kept.
      verify(req, settings) {
        if (!settings.secretCodes?.length) return true;
        let body: unknown;
        // why: no shape limits here (only one field is read); a body over them with the right code is kept in quarantine by the parse step.
        try {
          body = parseJson(req.body, undefined);
        } catch {
          return false;
        }
        const code =
          body !== null &&
          typeof body === 'object' &&
          !Array.isArray(body) &&
          Object.hasOwn(body, 'secretCode')
            ? (body as { secretCode: unknown }).secretCode
            : undefined;
        return typeof code === 'string' && equalsAny(code, settings.secretCodes);
      },
      schema: sensorloggerUploadSchema,
      // why: Sensor Logger never calls again, so a malformed or unreadable call is kept (quarantine) and answered 422 like the official demo.
      onInvalid: 'quarantine',
      normalise({ payload }) {
        const { secretCode, ...rest } = payload;
        return [
          {
            type: 'sensorlogger.recording.uploaded',
            key: [payload.studyId, payload.uploadId],
            subject: payload.uploadId,
            studyid: payload.studyId,
            data: rest,
            // why: a call republished from quarantine has its code redacted (it is never kept); passing that on would only fail later.
            ...(secretCode !== REDACTED && { secrets: { secretCode } }),
          },
        ];
      },
      reply: (events) => ({ status: 200, body: { status: 'accepted', id: events[0]?.id } }),
    }),
  ],
  createClient: ({ config, namespaces }) => createSensorLoggerClient(config, namespaces),
  sample: sensorloggerSample,
  starter: {
    settings: [
      "# The Study code you set in Sensor Logger's study settings; calls with another code get 401.",
      'secretCodes: ["${SENSORLOGGER_STUDY_CODE}"]',
    ],
    env: [{ name: 'SENSORLOGGER_STUDY_CODE', value: () => randomBytes(8).toString('hex') }],
  },
  sinks: [sensorloggerFetch],
});
