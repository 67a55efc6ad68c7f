import { randomUUID } from 'node:crypto';
import { jsonBody, samplePath, type PlatformSample } from '../../src/adapter/sample.js';
import type { SensorLoggerSettings } from '../../src/generated/sensorlogger-settings.js';

/** Sensor Logger's upload notice; it carries the namespace's first Study code when one is configured (there is no signature). */
export const sensorloggerSample: PlatformSample<SensorLoggerSettings> = {
  routes: [''],
  build({ route, namespace, settings, body }) {
    const json = jsonBody({
      studyId: 'sample-study',
      uploadId: randomUUID(),
      secretCode: settings.secretCodes?.[0] ?? 'sample-secret-code',
    });
    return {
      method: 'POST',
      path: samplePath('sensorlogger', namespace, route),
      headers: json.headers,
      body: body ?? json.body,
    };
  },
};
