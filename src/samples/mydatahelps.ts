import { randomUUID } from 'node:crypto';
import { jsonBody, samplePath, type SampleBuilder } from './types.js';

interface Settings { tokens?: string[]; basicAuth?: { username: string; password: string }[] }

/** MyDataHelps callbacks (`''` = Survey Submitted, `schedule` = Schedule Triggered), sent to the namespace's token URL. */
export const mydatahelps: SampleBuilder = {
  platform: 'mydatahelps',
  routes: ['', 'schedule'],
  build(route, namespace, settings) {
    const s = settings as Settings;
    const common = { ProjectID: randomUUID(), ParticipantIdentifier: 'PT-sample', ParticipantID: randomUUID() };
    const payload = route === 'schedule'
      ? { EventType: 'ScheduleTriggered', ...common, ScheduleID: randomUUID(), ScheduleName: 'Sample schedule' }
      : { EventType: 'SurveySubmitted', ...common, SurveyResultID: randomUUID(), SurveyName: 'Sample survey' };
    const { body, headers } = jsonBody(payload);
    const token = s.tokens?.[0];
    const basic = s.basicAuth?.[0];
    if (!token && basic) headers['authorization'] = `Basic ${Buffer.from(`${basic.username}:${basic.password}`).toString('base64')}`;
    return { method: 'POST', path: samplePath('mydatahelps', namespace, token ? encodeURIComponent(token) : ''), headers, body };
  },
};
