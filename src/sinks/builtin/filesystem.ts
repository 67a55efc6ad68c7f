import { join, resolve } from 'node:path';
import { dayOf } from '../../util/append-line.js';
import { createLineWriter, type LineWriter } from '../../util/line-writer.js';
import { defineSink } from '../types.js';

/**
 * The embedded default: one JSON line per event in `<dir>/<platform>/<namespace>/<YYYY-MM-DD>.jsonl`
 * (UTC day received), fsync'd before the delivery counts. Files stay in the blob store, referenced by the event.
 * Deliveries to one file share its writes and fdatasyncs (group commit, see createLineWriter).
 */
export default defineSink<{ dir?: string; fsync: boolean }, { dir: string; writer: LineWriter }>({
  name: 'filesystem',
  // why: a batch holds the lines that arrive during one fdatasync, so deliveries in flight bound it: at
  // the 8 of other sinks one fsync covered at most 8 lines. 64 let the bench's sustained
  // load share each fsync among many lines while a job's lock renewals stay cheap for BullMQ.
  concurrency: 64,
  usesSecrets: false,
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    properties: {
      dir: { type: 'string', description: 'Archive directory (default <dataDir>/events).' },
      fsync: { type: 'boolean', default: true },
    },
  },
  setup(options, ctx) {
    const dir = options.dir ? resolve(ctx.dataDir, options.dir) : join(ctx.dataDir, 'events');
    return {
      dir,
      writer: createLineWriter({
        fsync: options.fsync,
        fileMode: ctx.fileMode,
        createBatcher: ctx.createBatcher,
      }),
    };
  },
  async deliver(event, ctx) {
    await ctx.state.writer.append(
      join(ctx.state.dir, event.platform, event.namespace, `${dayOf(event.receivedat)}.jsonl`),
      JSON.stringify(event),
    );
  },
  async close(state) {
    await state?.writer.close();
  },
});
