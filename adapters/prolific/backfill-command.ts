import { join } from 'node:path';
import type { Adapter } from '../../src/adapter/types.js';
import { createBlobStore } from '../../src/blobs/blob-store.js';
import { archiveDirOf } from '../../src/commands/export.js';
import type { ResolvedConfig } from '../../src/config/load-config.js';
import { publishStep } from '../../src/pipeline/publish-step.js';
import { createPublisher } from '../../src/queue/publisher.js';
import { assertRedisReachable } from '../../src/queue/redis.js';
import {
  adapterOf,
  findMissing,
  knownEvents,
  publishMissing,
  subscriptionsOf,
  type BackfillReport,
} from './backfill.js';
import type { ProlificClient } from './client.js';

export interface BackfillArgs {
  namespace: string;
  workspace: string;
  since?: Date;
  dryRun: boolean;
  studyIds: readonly string[];
  archiveDir?: string;
}

function print(r: BackfillReport, out: (l: string) => void): void {
  for (const s of r.subscriptions)
    out(
      `subscription ${s.id} (${s.eventType}): ${s.deliveries} deliveries in Prolific's log (${
        Object.entries(s.byStatus)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ') || 'none'
      }), ${s.missing} never received`,
    );
  for (const s of r.studies)
    out(
      `study ${s.id}: ${s.submissions} submissions on Prolific, ${s.missing} with a status never received`,
    );
}

/**
 * `studyhook prolific backfill`: finds what Prolific sent (or would have) that the archive lacks and
 * publishes it through the normal pipeline. Returns the exit code; on a failure midway it says what
 * was published (a rerun continues: published events have the same ids and are not published twice).
 */
export async function runBackfill(
  config: ResolvedConfig,
  adapters: readonly Adapter[],
  client: ProlificClient,
  a: BackfillArgs,
  out: (l: string) => void,
): Promise<number> {
  const ns = config.platforms['prolific']?.namespaces ?? {};
  const settings = Object.hasOwn(ns, a.namespace)
    ? ns[a.namespace]
    : Object.hasOwn(ns, '*')
      ? ns['*']
      : undefined;
  if (!settings) {
    out(
      `studyhook prolific backfill: namespace '${a.namespace}' is not configured under platforms.prolific.namespaces`,
    );
    return 1;
  }
  const report: BackfillReport = {
    subscriptions: [],
    studies: [],
    missing: [],
    published: [],
    refused: [],
  };
  const known = await knownEvents(a.archiveDir ?? archiveDirOf(config), a.namespace);
  const publisher = a.dryRun
    ? undefined
    : (await assertRedisReachable(config.redis.url),
      createPublisher({
        redisUrl: config.redis.url,
        prefix: config.redis.prefix,
        sinks: config.sinks,
        dedupTtlSeconds: config.dedupTtlSeconds,
        timeoutMs: config.server.publishTimeoutMs,
      }));
  try {
    const subs = subscriptionsOf(await client.listSubscriptions(a.workspace), a.namespace);
    if (subs.length === 0)
      out(`no subscription of workspace ${a.workspace} delivers to …/prolific/${a.namespace}`);
    const publish =
      publisher &&
      publishStep(
        publisher,
        createBlobStore(join(config.dataDir, 'blobs'), config.fileMode),
        config.server.maxQueuedDataBytes,
      );
    await findMissing(client, subs, a.studyIds, known, a.since, report, async (missing) => {
      if (publish)
        await publishMissing(
          adapterOf(adapters),
          missing,
          a.namespace,
          settings,
          config.server.parseLimits,
          publish,
          report,
        );
    });
    print(report, out);
    if (!publisher) {
      out(
        `dry run: ${report.missing.length} event(s) would be published (${report.missing.filter((m) => m.from === 'delivery-log').length} from the delivery log, ${report.missing.filter((m) => m.from === 'submissions').length} from the submissions lists)`,
      );
      return 0;
    }
    for (const r of report.refused) out(`left out (fails the Prolific schema): ${r}`);
    out(
      `published ${report.published.length} backfilled event(s)${report.missing.length ? ` (marked backfilled: prolific-delivery-log or prolific-submissions)` : ''}`,
    );
    return 0;
  } catch (err) {
    print(report, out);
    out(`stopped: ${(err as Error).message}`);
    out(
      `published ${report.published.length} of ${report.missing.length} missing event(s) found so far${publisher ? '' : ' (dry run)'}; run the same command again to continue (nothing is published twice)`,
    );
    return 1;
  } finally {
    await publisher?.close();
  }
}
