// An example custom sink: logs a line for each event and counts them per type.
// Enable it in studyhook.yml under `sinks:` with `module: ./sinks/log-uploads.js`.
let seen = 0;

export default {
  name: 'log-uploads',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: { prefix: { type: 'string', default: 'event' } },
  },
  setup(options) {
    return { prefix: options.prefix };
  },
  async deliver(event, ctx) {
    seen += 1;
    ctx.logger.info(
      { id: event.id, type: event.type, subject: event.subject, seen },
      `${ctx.state.prefix}: ${event.type}`,
    );
    // Throw to retry with backoff; throw a PermanentError (from 'studyhook') to give up.
  },
};
