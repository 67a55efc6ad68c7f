import { mkdir } from 'node:fs/promises';
import { createServer, type RequestListener, type Server } from 'node:http';
import { join } from 'node:path';
import { adapters } from '../adapters/index.js';
import { logSecretKeys } from './adapter/secrets.js';
import type { Adapter } from './adapter/types.js';
import type { BlobStore } from './blobs/blob-store.js';
import { openBlobStore } from './blobs/open-blob-store.js';
import type { ResolvedConfig } from './config/load-config.js';
import { requireAdmin } from './http/admin-auth.js';
import { guardRequests } from './http/guard-requests.js';
import { createApp, createOpsApp } from './http/create-app.js';
import { createLogger, type Logger } from './log/logger.js';
import { createMetrics, type Metrics } from './metrics/metrics.js';
import { createPublisher, type Publisher } from './queue/publisher.js';
import { redisProblem, redisUnreachable, safeRedisUrl } from './queue/redis.js';
import { StudyhookError } from './errors.js';
import { createSpoolingPublisher } from './queue/spooling-publisher.js';
import { createDeploymentLease, deploymentId, processInfo } from './queue/deployment.js';
import { dirModeOf } from './util/append-line.js';
import { withTimeout } from './util/timeout.js';
import { loadSinks } from './sinks/load-sinks.js';
import { createActivitySummary, type ActivitySummary } from './log/activity-summary.js';
import { runWorkers, type RunningWorkers } from './sinks/run-workers.js';

export interface GatewayOptions {
  config: ResolvedConfig;
  /** Which parts run in this process. */
  roles: { api: boolean; worker: boolean };
  logger?: Logger;
  /** Stalled-job check interval for workers (tests shorten it). */
  stalledIntervalMs?: number;
  /** Called when the gateway must not go on (another deployment took the Redis prefix); default: log it. */
  onFatal?: (err: Error) => void;
}

export interface Gateway {
  /** The API's request listener (undefined in a worker-only process). */
  app: RequestListener | undefined;
  publisher: Publisher;
  blobs: BlobStore;
  metrics: Metrics;
  logger: Logger;
  /** Starts listening (API role); resolves with the bound port. */
  listen(port?: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

/** Platform API clients for sinks, from the adapters that offer one. */
function createClients(config: ResolvedConfig): Record<string, unknown> {
  const clients: Record<string, unknown> = {};
  for (const a of adapters) {
    const p = config.platforms[a.platform];
    if (a.createClient && p)
      clients[a.platform] = a.createClient({ config: p.client, namespaces: p.namespaces });
  }
  return clients;
}

/** Wires one process: checks Redis and the sinks first, so a bad set-up fails at start with a clear message. */
export async function createGateway(opts: GatewayOptions): Promise<Gateway> {
  const { config } = opts;
  const logger =
    opts.logger ??
    createLogger({
      level: config.log.level,
      secretValues: config.secretValues,
      secretKeys: logSecretKeys(adapters),
    });
  const redisDown = await redisProblem(config.redis.url);
  if (redisDown) {
    // why: refusing to start would turn a Redis outage during a deploy or crash into lost calls from
    // senders that never retry; with the spool the API takes them and drains them later.
    if (opts.roles.api && !config.spool.enabled)
      throw redisUnreachable(config.redis.url, redisDown);
    logger.error(
      {
        redis: safeRedisUrl(config.redis.url),
        err: redisDown.message,
        spool: opts.roles.api ? join(config.dataDir, 'spool') : undefined,
      },
      opts.roles.api
        ? 'REDIS UNREACHABLE AT START: every request is spooled to the local journal and drained into Redis when it is back'
        : 'REDIS UNREACHABLE AT START: workers wait for it',
    );
  }
  const sinks = await loadSinks(config.sinks);
  // why: first, with the data files' mode (0750 for 0640), before the spool's 0700 journal directory
  // would create it as a parent with 0700 and lock colleagues out of the archive.
  await mkdir(config.dataDir, { recursive: true, mode: dirModeOf(config.fileMode) });
  const role = opts.roles.api ? (opts.roles.worker ? 'start' : 'api') : 'worker';
  const id = await deploymentId(
    config.dataDir,
    config.redis.deploymentId,
    dirModeOf(config.fileMode),
  );
  const lease = createDeploymentLease(
    config.redis.url,
    config.redis.prefix,
    processInfo(id, config.dataDir, role),
  );
  await lease.start(opts.onFatal ?? ((err) => logger.error({ err }, err.message)));
  const metrics = createMetrics();
  const blobs = await openBlobStore(config.blobs, config.dataDir, config.fileMode, logger);
  const direct = createPublisher({
    redisUrl: config.redis.url,
    prefix: config.redis.prefix,
    sinks: config.sinks,
    dedupTtlSeconds: config.dedupTtlSeconds,
    timeoutMs: config.server.publishTimeoutMs,
    metrics,
    waitReplicas: config.redis.waitReplicas,
    waitTimeoutMs: config.redis.waitTimeoutMs,
    onReplay: (env, first) => {
      metrics.replays.inc({ platform: env.event.platform });
      logger.warn(
        {
          eventId: env.event.id,
          firstEventId: first,
          platform: env.event.platform,
          namespace: env.event.namespace,
        },
        'a signed request was resent under another event id: acknowledged, not delivered again',
      );
    },
  });
  if (!redisDown) await direct.waitReady();
  // why: only the API takes requests; a worker-only process re-publishes nothing and needs no journal.
  const publisher =
    opts.roles.api && config.spool.enabled
      ? createSpoolingPublisher(direct, {
          dir: join(config.dataDir, 'spool'),
          maxBytes: config.spool.maxBytes,
          heartbeatMs: config.spool.heartbeatMs,
          orphanAfterMs: config.spool.orphanAfterMs,
          logger,
          metrics,
        })
      : direct;
  const activity = createActivitySummary(logger, config.log.summaryIntervalMs);
  const byPlatform = new Map<string, Adapter>(adapters.map((a) => [a.platform, a]));
  // why: without an admin token the dashboard is not built at all (no queues opened for it).
  // why: imported only then, so an API without a dashboard does not load Bull Board (about 5 MB resident).
  const dashboard =
    opts.roles.api && config.admin.token
      ? (await import('./http/dashboard.js')).createDashboard(
          config,
          requireAdmin(config.admin.token, logger),
          opts.roles.worker ? undefined : metrics,
        )
      : undefined;
  const app = opts.roles.api
    ? createApp(
        {
          adapters: byPlatform,
          config,
          publisher: countReceived(publisher, activity),
          blobs,
          logger,
          metrics,
        },
        dashboard ? { dashboard: dashboard.router } : {},
      )
    : undefined;
  let workers: RunningWorkers | undefined;
  if (opts.roles.worker) {
    workers = await runWorkers(sinks, {
      redisUrl: config.redis.url,
      prefix: config.redis.prefix,
      logger,
      metrics,
      publisher,
      base: {
        blobs,
        dataDir: config.dataDir,
        fileMode: config.fileMode,
        clients: createClients(config),
      },
      activity,
      stalledIntervalMs: opts.stalledIntervalMs ?? config.workers.stalledIntervalMs,
      maxStalls: config.workers.maxStalls,
      lockDurationMs: config.workers.lockDurationMs,
      maxQueuedDataBytes: config.server.maxQueuedDataBytes,
    });
  }
  let server: Server | undefined;
  return {
    app,
    publisher,
    blobs,
    metrics,
    logger,
    listen(port = config.server.port, host = config.server.host) {
      const handler =
        app ?? createOpsApp({ config, publisher, metrics, logger }, { spools: false });
      return new Promise((resolve, reject) => {
        const { maxHeaderBytes, headersTimeoutMs, requestTimeoutMs } = config.server;
        // why: bounded headers cut slow-loris clients off (node answers 431 / 408 itself, before any route is known).
        // node's requestTimeout is off: it would cut a large upload on a slow line; bodies are bounded per route
        // instead (readBody's total time, an upload's stall limit), through our error reply.
        server = createServer(
          {
            maxHeaderSize: maxHeaderBytes,
            headersTimeout: headersTimeoutMs,
            requestTimeout: 0,
            connectionsCheckingInterval: Math.min(30000, Math.max(250, headersTimeoutMs / 4)),
          },
          guardRequests(handler, requestTimeoutMs, logger),
        );
        server.listen(port, host, () => {
          const addr = server!.address();
          resolve(typeof addr === 'object' && addr ? addr.port : port);
        });
        server.once('error', (err: NodeJS.ErrnoException) => {
          const fix =
            err.code === 'EADDRINUSE'
              ? 'is in use (another studyhook?): stop that process or set server.port (PORT)'
              : err.code === 'EACCES'
                ? 'needs privileges: use a port above 1023 (server.port, PORT) and map it in the proxy'
                : `cannot be used (${err.code ?? err.message})`;
          reject(
            new StudyhookError('SH_PORT_IN_USE', `Port ${port} on ${host} ${fix}`, { cause: err }),
          );
        });
      });
    },
    async close() {
      await closeBounded(server, workers, config.server.shutdownTimeoutMs, logger);
      blobs.close();
      activity.stop();
      activity.flush();
      await dashboard?.close();
      await publisher.close();
      await lease.stop();
    },
  };
}

/** The API's publisher, counting each acknowledged event for the activity line. */
function countReceived(publisher: Publisher, activity: ActivitySummary): Publisher {
  return {
    ...publisher,
    async publish(envelopes) {
      await publisher.publish(envelopes);
      for (const e of envelopes) activity.count(e.event.platform, 'received');
    },
  };
}

/**
 * Stops accepting, lets in-flight requests and deliveries finish for up to `ms`, then cuts what is
 * left. A delivery cut off this way is not lost: its job stalls and another worker takes it up.
 */
async function closeBounded(
  server: Server | undefined,
  workers: RunningWorkers | undefined,
  ms: number,
  logger: Logger,
): Promise<void> {
  const httpDone = server
    ? new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      })
    : Promise.resolve();
  const outcome = await withTimeout(
    Promise.all([httpDone, workers?.close()]),
    ms,
    () => 'timeout' as const,
  );
  if (outcome === 'timeout') {
    logger.warn(
      { timeoutMs: ms },
      'shutdown timeout: cutting remaining connections and deliveries',
    );
    server?.closeAllConnections();
  }
}
