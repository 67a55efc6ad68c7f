import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig, type ResolvedConfig } from '../config/load-config.js';
import { StudyhookError } from '../errors.js';
import { assertRedisReachable } from '../queue/redis.js';
import { replayArchive, replayDeadLetters, type ReplaySelection } from '../queue/replay.js';
import { defineCommand } from '../command.js';

const HELP = `Usage: studyhook replay [--sink NAME] [--id EVENT_ID]... [--since ISO] [--until ISO] [--dry-run]
       studyhook replay --from-archive --sink NAME [--archive-dir DIR] [--id ...] [--since ...] [--until ...] [--dry-run]

Without --from-archive: moves dead letters (failed deliveries) back to their sink's queue with fresh
attempts; a running worker delivers them. With --from-archive: queues the events stored by the
filesystem archive to one sink, skipping those that sink already has. Times compare with the time
the gateway received the event (receivedat).`;

function usage(message: string): never {
  throw new StudyhookError('SH_CONFIG_INVALID', `${message}\n\n${HELP}`);
}

function date(value: string | undefined, flag: string): Date | undefined {
  if (value === undefined) return undefined;
  const d = new Date(value);
  if (Number.isNaN(d.getTime()))
    usage(`${flag} '${value}' is not a date (use ISO 8601: 2026-05-01 or 2026-05-01T12:00:00Z)`);
  return d;
}

/** The filesystem sink's directory, where `--from-archive` reads. */
function archiveDirOf(config: ResolvedConfig): string {
  const fs = config.sinks.find((s) => s.use === 'filesystem');
  const dir = fs?.options['dir'];
  return typeof dir === 'string' ? resolve(config.dataDir, dir) : join(config.dataDir, 'events');
}

export const replay = defineCommand({
  name: 'replay',
  summary: 're-deliver dead letters, or archived events to a (new) sink (--help)',
  async run(args) {
    const { values } = parseArgs({
      args,
      options: {
        config: { type: 'string', short: 'c' },
        sink: { type: 'string' },
        id: { type: 'string', multiple: true },
        since: { type: 'string' },
        until: { type: 'string' },
        'from-archive': { type: 'boolean' },
        'archive-dir': { type: 'string' },
        'dry-run': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (values.help) {
      console.log(HELP);
      return 0;
    }
    // why: replay moves jobs between queues; it needs Redis and the sink names, never a platform's or a sink's secrets.
    const config = loadConfig({
      path: values.config,
      secretsNotNeeded: ['/platforms', '/admin', '/studies', '/sinks/*/options', '/blobs'],
    });
    const sel: ReplaySelection = {
      ...(values.id && { ids: values.id }),
      ...(values.since !== undefined && { since: date(values.since, '--since')! }),
      ...(values.until !== undefined && { until: date(values.until, '--until')! }),
    };
    const sinks =
      values.sink === undefined ? config.sinks : config.sinks.filter((s) => s.name === values.sink);
    if (sinks.length === 0)
      usage(
        `no sink named '${values.sink}' in the config (sinks: ${config.sinks.map((s) => s.name).join(', ')})`,
      );
    const dryRun = values['dry-run'] ?? false;
    await assertRedisReachable(config.redis.url);
    const verb = dryRun ? 'would be' : '';
    const target = (sink: (typeof sinks)[number]) => ({
      redisUrl: config.redis.url,
      prefix: config.redis.prefix,
      sink,
      dryRun,
    });
    if (values['from-archive']) {
      if (values.sink === undefined) usage('--from-archive needs --sink NAME (the sink to fill)');
      const dir =
        values['archive-dir'] !== undefined ? resolve(values['archive-dir']) : archiveDirOf(config);
      const { queued, skipped, bad } = await replayArchive(
        target(sinks[0]!),
        dir,
        config.dedupTtlSeconds,
        sel,
      );
      console.log(
        `sink '${values.sink}': ${queued} archived event(s) ${verb || 'queued'} from ${dir}; ${skipped} skipped (already delivered or queued to this sink)`,
      );
      for (const b of bad)
        console.error(`skipped a line that is not JSON: ${b.file}:${b.line} (${b.error})`);
      return 0;
    }
    for (const sink of sinks) {
      const { requeued, unreadable } = await replayDeadLetters(target(sink), sel);
      console.log(`sink '${sink.name}': ${requeued} dead letter(s) ${verb || 're-queued'}`);
      for (const u of unreadable)
        console.error(
          `sink '${sink.name}': skipped dead letter ${u.jobId}, its job data is unreadable (${u.error}); it stays a dead letter`,
        );
    }
    return 0;
  },
});
