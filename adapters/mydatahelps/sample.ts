import { randomUUID } from 'node:crypto';
import {
  basicAuth,
  jsonBody,
  samplePath,
  type PlatformSample,
  type SampleRequest,
} from '../../src/adapter/sample.js';
import type { MyDataHelpsSettings } from '../../src/generated/mydatahelps-settings.js';

/** Basic credentials when the namespace has them and no token URL (a token in the path needs nothing more). */
function sign(req: SampleRequest, s: MyDataHelpsSettings): SampleRequest {
  const basic = s.basicAuth?.[0];
  return !s.tokens?.length && basic
    ? { ...req, headers: { ...req.headers, authorization: basicAuth(basic) } }
    : req;
}

/** MyDataHelps callbacks (Survey Submitted, Schedule Triggered), sent to the namespace's token URL when it has one. */
export const mydatahelpsSample: PlatformSample<MyDataHelpsSettings> = {
  routes: [''],
  events: ['SurveySubmitted', 'ScheduleTriggered'],
  build({ namespace, settings, event = 'SurveySubmitted', body }) {
    const common = {
      ProjectID: randomUUID(),
      ParticipantIdentifier: 'PT-sample',
      ParticipantID: randomUUID(),
    };
    const json = jsonBody(
      event === 'ScheduleTriggered'
        ? { EventType: event, ...common, ScheduleID: randomUUID(), ScheduleName: 'Sample schedule' }
        : {
            EventType: event,
            ...common,
            SurveyResultID: randomUUID(),
            SurveyName: 'Sample survey',
          },
    );
    const token = settings.tokens?.[0];
    return sign(
      {
        method: 'POST',
        path: samplePath('mydatahelps', namespace, token ? encodeURIComponent(token) : ''),
        headers: json.headers,
        body: body ?? json.body,
        label: event,
      },
      settings,
    );
  },
  sign,
};
