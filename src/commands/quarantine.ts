import { readdir, readFile } from 'node:fs/promises';
import { buffer } from 'node:stream/consumers';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { adapters } from '../../adapters/index.js';
import type { IncomingRequest } from '../adapter/types.js';
import type { BlobStore } from '../blobs/blob-store.js';
import { openBlobStore } from '../blobs/open-blob-store.js';
import { loadConfig, type ResolvedConfig } from '../config/load-config.js';
import { StudyhookError } from '../errors.js';
import type { Envelope } from '../event/build-event.js';
import { processRequest } from '../pipeline/process-request.js';
import { publishStep } from '../pipeline/publish-step.js';
import { createPublisher, type Publisher } from '../queue/publisher.js';
import { assertRedisReachable } from '../queue/redis.js';
import type { QuarantineRecord } from '../quarantine/quarantine.js';
import { appendLine } from '../util/append-line.js';
import { defineCommand } from '../command.js';

interface Entry {
  file: string;
  line: number;
  key: string;
  record: QuarantineRecord;
}

const USAGE =
  'Usage: studyhook quarantine list|republish [--config FILE] [--platform P] [--namespace N]';

async function walk(dir: string): Promise<string[]> {
  let names;
  try {
    names = await readdir(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  const nested = await Promise.all(
    names.map((d) =>
      d.isDirectory()
        ? walk(join(dir, d.name))
        : Promise.resolve(
            d.name.endsWith('.jsonl') && d.name !== 'republished.jsonl' ? [join(dir, d.name)] : [],
          ),
    ),
  );
  return nested.flat().sort();
}

/** Every quarantined record, with a key stable across runs (request id + body hash). A line that is not a record (torn by a full disk) is reported and skipped. */
async function readEntries(dataDir: string): Promise<Entry[]> {
  const out: Entry[] = [];
  for (const file of await walk(join(dataDir, 'quarantine'))) {
    const lines = (await readFile(file, 'utf8')).split('\n');
    lines.forEach((text, i) => {
      if (!text.trim()) return;
      let record: QuarantineRecord;
      try {
        record = JSON.parse(text) as QuarantineRecord;
      } catch {
        console.error(`skipped ${file}:${i + 1}: not a JSON record`);
        return;
      }
      out.push({
        file,
        line: i + 1,
        key: `${record.platform}/${record.namespace}/${record.requestid}/${record.bodysha256}`,
        record,
      });
    });
  }
  return out;
}

async function republishedKeys(dataDir: string): Promise<Set<string>> {
  try {
    const text = await readFile(join(dataDir, 'quarantine', 'republished.jsonl'), 'utf8');
    return new Set(
      text
        .split('\n')
        .filter(Boolean)
        .map((l) => (JSON.parse(l) as { key: string }).key),
    );
  } catch {
    return new Set();
  }
}

/** The request a record describes, as the pipeline saw it (secrets excepted). */
async function requestOf(r: QuarantineRecord, blobs: BlobStore): Promise<IncomingRequest> {
  const kept = r.request;
  const body = r.body ? await buffer(blobs.open(r.body)) : Buffer.alloc(0);
  return {
    method: kept?.method ?? 'POST',
    platform: r.platform,
    namespace: r.namespace,
    route: r.route,
    params: kept?.params ?? {},
    headers: kept?.headers ?? {},
    query: kept?.query ?? {},
    body,
    ip: kept?.ip ?? '',
    requestId: r.requestid,
    receivedAt: new Date(r.receivedat),
  };
}

/**
 * Runs a record through the same pipeline tail as a live request (parse → validate → normalise →
 * build → publish), so it gets the events and ids the live call would have got; a problem when it
 * still cannot be used.
 */
async function republishRecord(
  config: ResolvedConfig,
  blobs: BlobStore,
  publisher: Publisher,
  r: QuarantineRecord,
): Promise<{ envelopes?: Envelope[]; problem?: string }> {
  const adapter = adapters.find((a) => a.platform === r.platform);
  const route = adapter?.routes.find((x) => x.path === r.route);
  if (!adapter || !route) return { problem: `no ${r.platform} route '${r.route}' any more` };
  const ns = config.platforms[r.platform]?.namespaces ?? {};
  const settings = Object.hasOwn(ns, r.namespace)
    ? ns[r.namespace]
    : Object.hasOwn(ns, '*')
      ? ns['*']
      : undefined;
  if (!settings) return { problem: `namespace '${r.namespace}' is not configured` };
  let request: IncomingRequest;
  try {
    request = await requestOf(r, blobs);
  } catch (err) {
    return { problem: `its kept body cannot be read: ${(err as Error).message}` };
  }
  // why: a multipart body was streamed, not kept as bytes; records written before bytes were kept hold only the payload.
  const parsed =
    r.body === undefined && r.payload !== undefined ? { payload: r.payload } : undefined;
  try {
    const result = await processRequest(
      {
        adapter,
        route,
        settings,
        request,
        limits: config.server.parseLimits,
        bodySha256: r.bodysha256,
        fallbackKey: [r.requestid, r.bodysha256],
        ...(r.request?.verified && { verified: r.request.verified }),
        ...(parsed && { parsed }),
      },
      publishStep(publisher, blobs, config.server.maxQueuedDataBytes),
    );
    if ('published' in result) return { envelopes: result.published };
    return {
      problem: `still ${result.refused.reason}: ${result.refused.problems.map((p) => `${p.path} ${p.message}`).join('; ')}`,
    };
  } catch (err) {
    if (err instanceof StudyhookError && err.code !== 'SH_QUEUE_UNAVAILABLE')
      return { problem: err.message };
    throw err;
  }
}

export const quarantine = defineCommand({
  name: 'quarantine',
  summary: 'list quarantined payloads, or republish those that pass the current schema (once each)',
  usage: `${USAGE}\n\nlist: every quarantined payload with its problems, as JSON lines. republish: runs each through the current\nschema and sinks once more; those that pass are queued like live events.`,
  async run(args) {
    const [action, ...rest] = args;
    const { values } = parseArgs({
      args: rest,
      options: {
        config: { type: 'string', short: 'c' },
        platform: { type: 'string' },
        namespace: { type: 'string' },
      },
    });
    if (action !== 'list' && action !== 'republish') {
      console.error(USAGE);
      return 2;
    }
    // why: list reads files only; republish runs the pipeline and queues, never a sink's or the dashboard's secret.
    const config = loadConfig({
      path: values.config,
      secretsNotNeeded: [
        '/admin',
        '/studies',
        '/sinks/*/options',
        ...(action === 'list' ? ['/platforms', '/redis'] : []),
      ],
    });
    const done = await republishedKeys(config.dataDir);
    const entries = (await readEntries(config.dataDir)).filter(
      (e) =>
        (!values.platform || e.record.platform === values.platform) &&
        (!values.namespace || e.record.namespace === values.namespace),
    );
    if (action === 'list') {
      for (const e of entries) {
        const status = done.has(e.key) ? 'republished' : 'quarantined';
        console.log(
          JSON.stringify({
            status,
            receivedat: e.record.receivedat,
            platform: e.record.platform,
            namespace: e.record.namespace,
            route: e.record.route,
            requestid: e.record.requestid,
            reason: e.record.reason ?? 'invalid',
            problems: e.record.problems.map((p) => `${p.path} ${p.message}`),
            file: `${e.file}:${e.line}`,
          }),
        );
      }
      console.error(
        `${entries.length} quarantined record(s), ${entries.filter((e) => done.has(e.key)).length} already republished`,
      );
      return 0;
    }
    await assertRedisReachable(config.redis.url);
    const publisher = createPublisher({
      redisUrl: config.redis.url,
      prefix: config.redis.prefix,
      sinks: config.sinks,
      dedupTtlSeconds: config.dedupTtlSeconds,
      timeoutMs: config.server.publishTimeoutMs,
      waitReplicas: config.redis.waitReplicas,
      waitTimeoutMs: config.redis.waitTimeoutMs,
    });
    const blobs = await openBlobStore(config.blobs, config.dataDir, config.fileMode, undefined, {
      sweep: false,
    });
    let published = 0;
    let skipped = 0;
    try {
      for (const e of entries) {
        if (done.has(e.key)) continue;
        const { envelopes, problem } = await republishRecord(config, blobs, publisher, e.record);
        if (!envelopes) {
          skipped++;
          console.error(`skipped ${e.file}:${e.line}: ${problem}`);
          continue;
        }
        // why: marked only after the publish is durable; a crash in between republishes the same
        // deterministic event ids, which the queue's deduplication drops.
        await appendLine(
          join(config.dataDir, 'quarantine', 'republished.jsonl'),
          JSON.stringify({
            key: e.key,
            at: new Date().toISOString(),
            events: envelopes.map((x) => x.event.id),
          }),
        );
        done.add(e.key);
        published++;
      }
    } finally {
      await publisher.close();
    }
    console.error(`republished ${published} record(s); ${skipped} still invalid or unroutable`);
    return 0;
  },
});
