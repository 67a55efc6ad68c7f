import { randomInt, randomUUID } from 'node:crypto';
import {
  basicAuth,
  samplePath,
  type PlatformSample,
  type SampleRequest,
} from '../../src/adapter/sample.js';
import type { ActiGraphSettings } from '../../src/generated/actigraph-settings.js';
import { hmac } from '../../src/verify/presets.js';

/** The credentials CentrePoint sends for the namespace's `auth`; an HMAC covers the body (validation requests too). */
function sign(req: SampleRequest, s: ActiGraphSettings): SampleRequest {
  const headers = { ...req.headers };
  if (s.auth === 'hmac' && s.passcodes)
    headers['x-actigraph-signature'] = hmac('sha256', s.passcodes[0], req.body, 'base64');
  if (s.auth === 'basic' && s.basic) headers['authorization'] = basicAuth(s.basic[0]);
  if (s.auth === 'bearer' && s.tokens) headers['authorization'] = `Bearer ${s.tokens[0]}`;
  return { ...req, headers };
}

/**
 * An ActiGraph `upload` delivery, or the `validation` handshake CentrePoint sends when the webhook
 * is saved; both go to the one registered URL, told apart by `X-ActiGraph-Event`.
 */
export const actigraphSample: PlatformSample<ActiGraphSettings> = {
  routes: [''],
  events: ['upload', 'validation'],
  build({ route, namespace, settings, event = 'upload', status, body }) {
    const validation = event === 'validation';
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-actigraph-event': event,
      'x-actigraph-delivery': String(randomInt(1e9)),
    };
    if (validation) headers['x-actigraph-hook-secret'] = randomUUID();
    return sign(
      {
        method: 'POST',
        path: samplePath('actigraph', namespace, route),
        headers,
        label: validation ? 'validation handshake' : event,
        body:
          body ??
          Buffer.from(
            JSON.stringify(
              validation
                ? { ValidationCode: randomUUID() }
                : {
                    status: status ?? 'completed',
                    firstEpochUTC: '2018-03-08T00:20:00.0000000',
                    lastEpochUTC: '2018-03-08T00:34:00.0000000',
                    uploadId: String(randomInt(1e6)),
                    studyId: '8',
                    subjectId: '2358',
                  },
            ),
          ),
      },
      settings,
    );
  },
  sign,
};
