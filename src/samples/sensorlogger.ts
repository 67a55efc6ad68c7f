import { randomUUID } from 'node:crypto';
import { jsonBody, samplePath, type SampleBuilder } from './types.js';

/** Sensor Logger's upload notice; uses the namespace's first Study code when one is configured. */
export const sensorlogger: SampleBuilder = {
  platform: 'sensorlogger',
  routes: [''],
  build(route, namespace, settings) {
    const codes = settings['secretCodes'] as string[] | undefined;
    const { body, headers } = jsonBody({ studyId: 'sample-study', uploadId: randomUUID(), secretCode: codes?.[0] ?? 'sample-secret-code' });
    return { method: 'POST', path: samplePath('sensorlogger', namespace, route), headers, body };
  },
};
