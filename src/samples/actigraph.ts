import { randomInt, randomUUID } from 'node:crypto';
import { hmac } from '../verify/presets.js';
import { samplePath, type SampleBuilder } from './types.js';

interface Settings { auth?: string; passcodes?: string[]; basic?: { username: string; password: string }[]; tokens?: string[] }

/** An ActiGraph `upload` delivery (route `''`) or a `validation` request (route `validation`), authenticated as the namespace is set up. */
export const actigraph: SampleBuilder = {
  platform: 'actigraph',
  routes: ['', 'validation'],
  build(route, namespace, settings) {
    const s = settings as Settings;
    const validation = route === 'validation';
    const body = Buffer.from(JSON.stringify(validation ? { ValidationCode: randomUUID() } : {
      status: 'completed', firstEpochUTC: '2018-03-08T00:20:00.0000000', lastEpochUTC: '2018-03-08T00:34:00.0000000',
      uploadId: String(randomInt(1e6)), studyId: '8', subjectId: '2358',
    }));
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-actigraph-event': validation ? 'validation' : 'upload', 'x-actigraph-delivery': String(randomInt(1e9)) };
    if (validation) headers['x-actigraph-hook-secret'] = randomUUID();
    if (s.auth === 'hmac' && s.passcodes?.[0]) headers['x-actigraph-signature'] = hmac('sha256', s.passcodes[0], body, 'base64');
    if (s.auth === 'basic' && s.basic?.[0]) headers['authorization'] = `Basic ${Buffer.from(`${s.basic[0].username}:${s.basic[0].password}`).toString('base64')}`;
    if (s.auth === 'bearer' && s.tokens?.[0]) headers['authorization'] = `Bearer ${s.tokens[0]}`;
    // why: both kinds go to the one registered URL; `validation` is a sample route name, not a path.
    return { method: 'POST', path: samplePath('actigraph', namespace, ''), headers, body };
  },
};
