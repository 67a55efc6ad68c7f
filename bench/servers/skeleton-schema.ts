import { Ajv } from 'ajv';

/** The Sensor Logger body shape, checked the same way by both skeletons (ajv, compiled once). */
export const validate = new Ajv({ allErrors: true, strict: false }).compile({
  type: 'object',
  required: ['studyId', 'uploadId'],
  properties: {
    studyId: { type: 'string' },
    uploadId: { type: 'string' },
    secretCode: { type: 'string' },
  },
});

export const port = Number(process.env['PORT']);
export const redis = {
  url: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379',
  prefix: process.env['BENCH_PREFIX'] ?? '{bench}',
};

export function connection(): { host: string; port: number } {
  const u = new URL(redis.url);
  return { host: u.hostname, port: Number(u.port || 6379) };
}
