// An example custom sink in TypeScript (no build step: studyhook loads .ts sinks with tsx).
// It appends one CSV row per event to <dataDir>/<file>, e.g. to see at a glance who sent what.
// `import type` is erased at run time, so this file also runs when mounted into the container.
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import type { Sink, StudyhookEvent } from 'studyhook';

interface Options {
  file: string;
}
interface State {
  file: string;
}

const csv = (v: string | undefined) => `"${(v ?? '').replace(/"/g, '""')}"`;
const row = (e: StudyhookEvent) =>
  [e.time, e.type, e.namespace, e.studyid, e.participantid, e.subject].map(csv).join(',');

const sink: Sink<Options, State> = {
  name: 'participant-log',
  // Checked at start-up: a typo in the config fails `studyhook check`, not the first event.
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: { file: { type: 'string', default: 'participants.csv' } },
  },
  async setup(options, ctx) {
    const file = resolve(ctx.dataDir, options.file);
    await mkdir(dirname(file), { recursive: true });
    ctx.logger.info({ file }, 'participant log ready');
    return { file };
  },
  async deliver(event, ctx) {
    // A thrown error retries with backoff; the row is appended once the write succeeds.
    await appendFile(ctx.state.file, `${row(event)}\n`);
  },
};

export default sink;
