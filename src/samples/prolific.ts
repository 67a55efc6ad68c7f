import { randomBytes } from 'node:crypto';
import { hmac } from '../verify/presets.js';
import { samplePath, type SampleBuilder } from './types.js';

/** A Prolific `submission.status.change`, signed as Prolific signs: base64 HMAC-SHA256(secret, timestamp + body). */
export const prolific: SampleBuilder = {
  platform: 'prolific',
  routes: [''],
  build(route, namespace, settings) {
    const secret = (settings['secrets'] as string[] | undefined)?.[0] ?? 'sample-secret';
    const body = Buffer.from(JSON.stringify({
      event_type: 'submission.status.change', resource_id: randomBytes(12).toString('hex'),
      participant_id: randomBytes(12).toString('hex'), study_id: randomBytes(12).toString('hex'), status: 'AWAITING REVIEW',
    }));
    const timestamp = String(Math.floor(Date.now() / 1000));
    return {
      method: 'POST', path: samplePath('prolific', namespace, route), body,
      headers: {
        'content-type': 'application/json', 'x-event-id': randomBytes(12).toString('hex'), 'x-timestamp': timestamp,
        'x-prolific-request-timestamp': timestamp, 'x-prolific-request-signature': hmac('sha256', secret, Buffer.concat([Buffer.from(timestamp), body]), 'base64'),
      },
    };
  },
};
