import { join, resolve } from 'node:path';
import { appendLine, dayOf } from '../../util/append-line.js';
import { defineSink } from '../types.js';

/**
 * The embedded default: one JSON line per event in `<dir>/<platform>/<namespace>/<YYYY-MM-DD>.jsonl`
 * (UTC day received), fsync'd before the delivery counts. Files stay in the blob store, referenced by the event.
 */
export default defineSink<{ dir?: string; fsync: boolean }, { dir: string; fsync: boolean }>({
  name: 'filesystem',
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      dir: { type: 'string', description: 'Archive directory (default <dataDir>/events).' },
      fsync: { type: 'boolean', default: true },
    },
  },
  setup(options, ctx) {
    return { dir: options.dir ? resolve(ctx.dataDir, options.dir) : join(ctx.dataDir, 'events'), fsync: options.fsync };
  },
  async deliver(event, ctx) {
    const file = join(ctx.state.dir, event.platform, event.namespace, `${dayOf(event.receivedat)}.jsonl`);
    await appendLine(file, JSON.stringify(event), { fsync: ctx.state.fsync, fileMode: ctx.fileMode });
  },
});
