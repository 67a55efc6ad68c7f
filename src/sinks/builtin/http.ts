import { createHmac } from 'node:crypto';
import { defineSink } from '../types.js';
import { postJson } from './post-json.js';

interface Options {
  url: string;
  secret?: string;
  headers: Record<string, string>;
  timeoutMs: number;
  maxRetryAfterMs: number;
}

/** Standard Webhooks signature: `v1,` + base64 HMAC-SHA256 over `id.timestamp.body` with the decoded `whsec_` key. */
export function signWebhook(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/**
 * Forwards each event as a CloudEvent (structured JSON) to a URL, signed with Standard Webhooks
 * headers. `webhook-id` is the event id, so the receiver can drop our retries as duplicates.
 */
export default defineSink<Options, Options>({
  name: 'http',
  optionsSchema: {
    type: 'object',
    required: ['url'],
    additionalProperties: false,
    properties: {
      url: { type: 'string', pattern: '^https?://' },
      secret: {
        type: 'string',
        pattern: '^whsec_[A-Za-z0-9+/=]+$',
        description: 'Standard Webhooks secret: whsec_<base64>',
      },
      headers: { type: 'object', additionalProperties: { type: 'string' }, default: {} },
      timeoutMs: { type: 'integer', minimum: 1, default: 10000 },
      maxRetryAfterMs: { type: 'integer', minimum: 0, default: 30000 },
    },
  },
  setup: (options) => options,
  async deliver(event, ctx) {
    const o = ctx.state;
    const body = JSON.stringify(event);
    // why: the timestamp is re-taken per request so that a receiver's tolerance window (5 min) holds after a wait.
    const build = () => {
      const ts = Math.floor(Date.now() / 1000);
      return {
        ...o.headers,
        'content-type': 'application/cloudevents+json',
        'user-agent': 'studyhook',
        'webhook-id': event.id,
        'webhook-timestamp': String(ts),
        ...(o.secret !== undefined && {
          'webhook-signature': signWebhook(o.secret, event.id, ts, body),
        }),
      };
    };
    await postJson(
      o.url,
      body,
      { headers: {}, timeoutMs: o.timeoutMs, maxRetryAfterMs: o.maxRetryAfterMs },
      build,
    );
  },
});
