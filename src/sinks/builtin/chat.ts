import type { StudyhookEvent } from '../../generated/event.js';
import { ownField } from '../../util/own.js';
import { defineSink } from '../types.js';
import { postJson } from './post-json.js';

type Format = 'slack' | 'discord' | 'teams';
interface Options {
  url: string;
  format: Format;
  template: string;
  timeoutMs: number;
  maxRetryAfterMs: number;
}

/** Fills `{{type}}`, `{{subject}}`, `{{data.status}}`...: a dotted path into the event; missing values become ''. */
export function renderTemplate(template: string, event: StudyhookEvent): string {
  return template.replace(/\{\{\s*([\w.-]+)\s*\}\}/g, (_m, path: string) => {
    let v: unknown = event;
    // why: own properties only: `{{constructor}}` is a missing value, not Object's source text.
    for (const key of path.split('.')) v = ownField(v, key);
    if (v === undefined || v === null) return '';
    return typeof v === 'object' ? JSON.stringify(v) : String(v);
  });
}

/** The JSON each service's incoming webhook takes. */
function payload(format: Format, text: string): unknown {
  if (format === 'slack') return { text };
  // why: Discord rejects content over 2000 characters (https://discord.com/developers/docs/resources/webhook#execute-webhook).
  if (format === 'discord')
    return { content: text.slice(0, 2000), allowed_mentions: { parse: [] } };
  // why: Teams' Workflows webhooks take an Adaptive Card in a message (Office 365 connectors are retired).
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [{ type: 'TextBlock', text, wrap: true }],
        },
      },
    ],
  };
}

/** Posts a short message per event to a Slack, Discord or Teams incoming webhook. Filter it to the events worth a ping. */
export default defineSink<Options, Options>({
  name: 'chat',
  optionsSchema: {
    type: 'object',
    required: ['url', 'format'],
    additionalProperties: false,
    properties: {
      url: { type: 'string', pattern: '^https?://' },
      format: { enum: ['slack', 'discord', 'teams'] },
      template: { type: 'string', default: '{{type}} {{subject}} ({{namespace}})' },
      timeoutMs: { type: 'integer', minimum: 1, default: 10000 },
      maxRetryAfterMs: { type: 'integer', minimum: 0, default: 30000 },
    },
  },
  setup: (options) => options,
  async deliver(event, ctx) {
    const o = ctx.state;
    const body = JSON.stringify(payload(o.format, renderTemplate(o.template, event)));
    await postJson(o.url, body, {
      headers: { 'content-type': 'application/json' },
      timeoutMs: o.timeoutMs,
      maxRetryAfterMs: o.maxRetryAfterMs,
    });
  },
});
