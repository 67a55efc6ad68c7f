import { randomBytes, randomInt } from 'node:crypto';
import { jsonBody, samplePath, type PlatformSample } from '../../src/adapter/sample.js';
import type { LabvancedSettings } from '../../src/generated/labvanced-settings.js';
import { LABVANCED_ORIGIN } from './values.js';

const ROUTES = [
  'recordTrial',
  'startFirstPlayerSession',
  'setPlayerSessionStartedTime',
  'addMetaInfo',
  'recordStartTask',
  'finishExpSession',
  'errExpSession',
  'file_upload',
] as const;

function bodyOf(
  route: string,
  s: { expId: number; expSessionNr: number },
): Record<string, unknown> {
  const now = new Date().toISOString().replace('T', ' ').slice(0, 19);
  switch (route) {
    case 'startFirstPlayerSession':
      return {
        ...s,
        subject_code: 'P-sample',
        groupNr: 1,
        sessionNr: 1,
        experiment_name: 'Sample',
      };
    case 'setPlayerSessionStartedTime':
      return { ...s, start_time: `${now}+00`, sessionNr: 1, groupNr: 1 };
    case 'addMetaInfo':
      return { ...s, var_data: { browserSpec: 'Chrome', screenWidth: 1920, screenHeight: 1080 } };
    case 'recordStartTask':
      return {
        ...s,
        taskNr: 1,
        taskId: 't-sample',
        recTaskId: 1,
        taskName: 'Stroop',
        start_time: `${now}+00`,
      };
    case 'finishExpSession':
      return { ...s, end_time: `${now}+00` };
    case 'errExpSession':
      return { ...s, err_msg: 'sample error' };
    default:
      return {
        ...s,
        trialNr: randomInt(1, 1000),
        recTaskId: 1,
        taskId: 't-sample',
        recData: {
          data: { response: 'left', rt: randomInt(200, 900), correct: true },
          scope: 'trial',
        },
      };
  }
}

/** Labvanced player requests (as the participant's browser sends them, with the Labvanced Origin); `file_upload` is multipart. */
export const labvancedSample: PlatformSample<LabvancedSettings> = {
  routes: ROUTES,
  build({ route, namespace, settings, body: given }) {
    const origin = settings.allowedOrigins?.[0] ?? LABVANCED_ORIGIN;
    const session = { expId: 4242, expSessionNr: randomInt(1e6) };
    const path = samplePath('labvanced', namespace, route);
    if (route !== 'file_upload') {
      const { body, headers } = jsonBody(bodyOf(route, session));
      return { method: 'POST', path, headers: { ...headers, origin }, body: given ?? body };
    }
    const boundary = `----studyhook${randomBytes(8).toString('hex')}`;
    const part = (name: string, value: string) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`;
    const body =
      given ??
      Buffer.concat([
        Buffer.from(
          part('expSessionNr', String(session.expSessionNr)) +
            part('newFileName', 'sample-recording.webm'),
        ),
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="myFile"; filename="blob"\r\nContent-Type: video/webm\r\n\r\n`,
        ),
        randomBytes(64 * 1024),
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
    return {
      method: 'POST',
      path,
      headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, origin },
      body,
    };
  },
};
