import { once } from 'node:events';
import { Queue } from 'bullmq';
import type { Envelope } from '../event/build-event.js';
import { jobIdOf } from '../event/build-event.js';
import { jobOptions } from './job-options.js';
import type { ResolvedSink } from '../config/load-config.js';
import { StudyhookError } from '../errors.js';
import type { Metrics } from '../metrics/metrics.js';
import { compileFilter } from '../event/filter.js';
import { builtinSink } from '../sinks/builtin/index.js';
import { Cluster, createRedis, sinkQueueName } from './redis.js';
import { isRedisUnavailable, RedisTimeoutError, ReplicaAckError } from './redis-errors.js';
import { withTimeout } from '../util/timeout.js';

/** Makes events durable: one job per matching sink, each added atomically with its deduplication key. */
export interface Publisher {
  /**
   * Resolves once every job is in Redis. Rejects with SH_QUEUE_UNAVAILABLE (503) when Redis is
   * away or cannot take writes, and with SH_PUBLISH_FAILED for anything else (the event itself).
   */
  publish(envelopes: readonly Envelope[]): Promise<void>;
  /** Resolves when the connection is up (start-up). */
  waitReady(): Promise<void>;
  /** True when Redis answers PING. */
  ready(): Promise<boolean>;
  /** Bytes of acknowledged events not yet in Redis (a spool's backlog); 0 without a spool. */
  backlogBytes(): number;
  close(): Promise<void>;
}

export interface PublisherOptions {
  redisUrl: string;
  prefix: string;
  sinks: readonly ResolvedSink[];
  dedupTtlSeconds: number;
  timeoutMs: number;
  /** Replicas that must confirm every publish (Redis WAIT) before it resolves; 0 or absent: none. */
  waitReplicas?: number;
  /** How long to wait for them; short of them in time, the publish fails as Redis being unavailable. */
  waitTimeoutMs?: number;
  metrics?: Metrics;
  /** Told about each envelope dropped as a replay of a signed request under a new event id. */
  onReplay?: (env: Envelope, firstEventId: string) => void;
}

const RETRY_AFTER_SECONDS = '5';
/** How long /readyz waits for Redis's PONG. */
const READY_TIMEOUT_MS = 1000;

export function createPublisher(opts: PublisherOptions): Publisher {
  const redis = createRedis(opts.redisUrl, 'producer');
  // why: one Queue per sink sharing one connection. A MULTI across sinks (FlowProducer.addBulk) cost
  // several times the Redis-side time per request (bench/publish-micro.ts) because ioredis
  // copies every BullMQ script onto each pipeline. Atomicity across sinks is not needed: a partial
  // fan-out is answered 503 (or spooled) and the retry re-adds all jobs; the jobId and deduplication
  // key make the ones already added no-ops.
  /** A Queue, and whether its connection set-up failed for good (see healQueues). */
  const openQueue = (sink: ResolvedSink): { queue: Queue; dead: boolean } => {
    const q = {
      queue: new Queue(sinkQueueName(sink.name, opts.prefix), {
        connection: redis,
        prefix: opts.prefix,
      }),
      dead: false,
    };
    q.queue.on('error', () => undefined);
    q.queue.waitUntilReady().catch(() => {
      q.dead = true;
    });
    return q;
  };
  const routes = opts.sinks.map((sink) => {
    const q = openQueue(sink);
    // why: a job without secrets needs no rewrite once delivered (dropSecrets), one Redis script less per event.
    const secrets =
      sink.secrets ?? (sink.use === undefined || builtinSink(sink.use)?.usesSecrets !== false);
    return { sink, q, matches: compileFilter(sink.filter), secrets };
  });
  const dedupTtlMs = opts.dedupTtlSeconds * 1000;

  /**
   * Drops envelopes whose signed request was already published under another event id. why: a
   * captured signed request resent with a new X-Event-ID is still the same signed bytes; the key
   * lives as long as deduplication does. The same event id passes (a retry of this publish).
   */
  async function withoutReplays(envelopes: readonly Envelope[]): Promise<readonly Envelope[]> {
    if (!envelopes.some((e) => e.replay)) return envelopes;
    const kept: Envelope[] = [];
    for (const env of envelopes) {
      if (!env.replay) {
        kept.push(env);
        continue;
      }
      const key = `${opts.prefix}:replay:${env.replay}`;
      const owner = await claim(key, env.event.id);
      // why: a claim whose event never reached a queue (its publish failed after the claim, and the
      // sender retried under a new id) is taken over, so a failed first attempt never costs the retry.
      if (owner === env.event.id || !(await stored(owner))) {
        if (owner !== env.event.id) await redis.set(key, env.event.id, 'PX', dedupTtlMs);
        kept.push(env);
      } else opts.onReplay?.(env, owner);
    }
    return kept;
  }

  /**
   * Claims a replay key for an event id; answers the id that holds it. why: a plain SET NX, not a
   * script: almost every claim is a first one, and a native command costs Redis and ioredis less
   * than EVALSHA; only a taken key (a retry or a replay) needs the GET. A key that expires between
   * the two is claimed again.
   */
  async function claim(key: string, id: string): Promise<string> {
    for (;;) {
      if ((await redis.set(key, id, 'PX', dedupTtlMs, 'NX')) === 'OK') return id;
      const owner = await redis.get(key);
      if (owner !== null) return owner;
    }
  }

  /** True when an event id has a job (or a deduplication key) in any sink queue. */
  async function stored(eventId: string): Promise<boolean> {
    const jobId = jobIdOf(eventId);
    for (const r of routes) if (await r.q.queue.getDeduplicationJobId(jobId)) return true;
    return false;
  }

  /**
   * Replaces a Queue whose connection set-up failed. why: BullMQ keeps the promise of its first
   * set-up (connect, then INFO); if Redis drops while that INFO is in flight, the promise stays
   * rejected and every later add fails, although the shared connection is back (seen with Redis
   * killed right after start: the spool never drained).
   */
  function healQueues(): void {
    for (const r of routes) {
      if (!r.q.dead) continue;
      void r.q.queue.close().catch(() => undefined);
      r.q = openQueue(r.sink);
    }
  }

  async function addAll(envelopes: readonly Envelope[]): Promise<void> {
    const adds: Promise<unknown>[] = [];
    for (const env of await withoutReplays(envelopes)) {
      for (const r of routes)
        if (r.matches(env.event))
          adds.push(
            r.q.queue.add(
              env.event.type,
              jobData(env, r.secrets),
              jobOptions(r.sink, env.event.id, opts.dedupTtlSeconds),
            ),
          );
    }
    await Promise.all(adds);
    // why also with no job added (every envelope dropped as a replay): the first event's job may be
    // on the primary alone, its own publish answered 503 when WAIT timed out; acknowledging the
    // resend before a replica has that job loses it in a failover. WAIT counts every write the
    // primary had when the replay check read it.
    await replicated();
  }

  /**
   * Waits until `waitReplicas` replicas have every write this connection sent (WAIT, on each primary
   * of a cluster: WAIT covers the writes of the connection it is sent on). why: replication is
   * asynchronous, so a primary killed right after it answered may take acknowledged jobs with it
   * when a replica is promoted in its place.
   */
  async function replicated(): Promise<void> {
    const wanted = opts.waitReplicas ?? 0;
    if (wanted === 0) return;
    const ms = opts.waitTimeoutMs ?? 1000;
    const nodes = redis instanceof Cluster ? redis.nodes('master') : [redis];
    await Promise.all(
      nodes.map(async (node) => {
        // why: a primary without a replica (its own was promoted elsewhere, or is gone) has nothing to
        // wait for, and nothing that a failover could promote in its place now: its AOF keeps the
        // write. A replica attaching later and promoted before its first copy ends lacks it; only
        // Redis's min-replicas-to-write closes that (docs/scaling.md, "Durability through a failover").
        const n = Math.min(wanted, await attachedReplicas(node, wanted));
        if (n === 0) return;
        const acks = await node.wait(n, ms);
        if (acks < n) throw new ReplicaAckError(n, acks, ms);
      }),
    );
  }

  const replicaCounts = new WeakMap<object, { at: number; count: number }>();
  /**
   * Replicas attached to a primary, in sync or not (INFO replication). A count of `wanted` or more
   * is reused for a second; a smaller one is asked again, after this publish's writes. why: a count
   * of 0 taken just before a replica attached, reused after, let publishes be acknowledged from the
   * primary alone while it had a replica (still empty) that Sentinel then promoted: they were lost
   * (test/redis-replica-sync.test.ts). An INFO sent once the writes are answered counts every
   * replica attached before them; one that attaches later gets them in its first copy. A count that
   * went stale the other way only makes WAIT time out (spooled or 503), never acknowledges early.
   * The cost, an INFO per publish, is paid only while a primary has fewer replicas than wanted.
   */
  async function attachedReplicas(
    node: { info(section: string): Promise<string> },
    wanted: number,
  ): Promise<number> {
    const seen = replicaCounts.get(node);
    if (seen && seen.count >= wanted && performance.now() - seen.at < 1000) return seen.count;
    const at = performance.now();
    // why also one still making its first copy: Sentinel promotes such a replica (Redis 7.0, seen
    // in a test whose primary was killed before the copy began), and it holds nothing. WAIT times
    // out until it is in sync, so publishes are spooled (or 503) meanwhile, not acknowledged from
    // the primary alone.
    const count = (await node.info('replication')).match(/^slave\d+:/gm)?.length ?? 0;
    replicaCounts.set(node, { at, count });
    return count;
  }

  return {
    async publish(envelopes) {
      if (!envelopes.some((env) => routes.some((r) => r.matches(env.event)))) return;
      const end = opts.metrics?.publishSeconds.startTimer();
      try {
        let late = false;
        await withTimeout(
          (async () => {
            // why: while ioredis reconnects, wait (bounded by the timeout) rather than fail at once.
            if (redis.status !== 'ready') await once(redis, 'ready');
            // why: a request already answered 503 (or spooled) is not published behind its sender's back.
            if (!late) await addAll(envelopes);
          })(),
          opts.timeoutMs,
          () => {
            late = true;
            throw new RedisTimeoutError(opts.timeoutMs);
          },
        );
        for (const env of envelopes) opts.metrics?.countEvent(env.event.type);
      } catch (err) {
        if (isRedisUnavailable(err)) {
          healQueues();
          throw new StudyhookError('SH_QUEUE_UNAVAILABLE', undefined, {
            cause: err,
            headers: { 'Retry-After': RETRY_AFTER_SECONDS },
          });
        }
        throw new StudyhookError(
          'SH_PUBLISH_FAILED',
          `The event could not be stored: ${(err as Error).message}`,
          { cause: err },
        );
      } finally {
        end?.();
      }
    },
    async waitReady() {
      if (redis.status !== 'ready') await once(redis, 'ready');
    },
    async ready() {
      try {
        // why bounded: a Redis that stops answering (its host paused), or a WAIT holding this
        // connection, held /readyz until the prober gave up, and a proxy took out of rotation an
        // API that was spooling every call.
        if (redis.status !== 'ready') return false;
        return (await withTimeout(redis.ping(), READY_TIMEOUT_MS, () => 'late')) === 'PONG';
      } catch {
        return false;
      }
    },
    backlogBytes: () => 0,
    async close() {
      await Promise.all(routes.map((r) => r.q.queue.close().catch(() => undefined)));
      redis.disconnect();
    },
  };
}

/**
 * What a sink's job carries: the event, its raw request and, for a sink that uses them, the secrets.
 * why: not the replay hash, which only the publisher's claim reads; every byte of a job is stored,
 * copied and parsed again per sink.
 */
function jobData(env: Envelope, withSecrets: boolean): Envelope {
  const data: Envelope = { event: env.event, request: env.request };
  if (withSecrets && env.secrets) data.secrets = env.secrets;
  return data;
}
