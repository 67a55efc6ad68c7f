import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import { Queue } from 'bullmq';
import express, { type RequestHandler, type Router } from 'express';
import type { ResolvedConfig } from '../config/load-config.js';
import type { Envelope } from '../event/build-event.js';
import type { Metrics } from '../metrics/metrics.js';
import { openQueue } from '../queue/redis.js';
import { renderEvents, type RecentEvent } from './dashboard-page.js';
import { createStudyPages } from './study-pages.js';

export interface Dashboard { router: Router; close(): Promise<void> }

/**
 * The operator's dashboard under `/admin`: Bull Board for the sink queues (counts, dead letters with
 * their error, retry buttons) and `/admin/events`, recent events per namespace with the sinks they
 * reached. Everything sits behind `guard` (the admin token).
 */
export function createDashboard(config: ResolvedConfig, guard: RequestHandler, metrics?: Metrics): Dashboard {
  const queues = config.sinks.map((s) => {
    const q = openQueue(s.name, config.redis.url, config.redis.prefix);
    return { sink: s.name, queue: q };
  });
  // why: the API process is the one Prometheus scrapes; a worker-only process serves no HTTP.
  if (metrics) {
    metrics.onScrape(async () => {
      for (const { sink, queue } of queues) {
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
        for (const [state, n] of Object.entries(counts)) metrics.queueDepth.set({ sink, state }, n);
      }
    });
  }
  const board = new ExpressAdapter();
  board.setBasePath('/admin/queues');
  createBullBoard({ queues: queues.map((q) => new BullMQAdapter(q.queue)), serverAdapter: board, options: { uiConfig: { boardTitle: 'studyhook' } } });

  const router = express.Router();
  router.use('/admin', guard);
  // why: Bull Board's UI loads inline bootstrapping; the API's strict CSP would blank the page.
  router.use('/admin', (_req, res, next) => { res.removeHeader('Content-Security-Policy'); next(); });
  router.use('/admin/queues', board.getRouter() as RequestHandler);
  router.get('/admin/events', async (req, res) => {
    const namespace = typeof req.query['namespace'] === 'string' ? req.query['namespace'] : undefined;
    const events = await recentEvents(queues, namespace, 100);
    if (req.accepts(['html', 'json']) === 'json') res.json({ events });
    else res.type('html').send(renderEvents(events, namespace));
  });
  router.use(createStudyPages(config, queues));
  router.get('/admin', (_req, res) => { res.redirect('/admin/events'); });
  return { router, async close() { await Promise.all(queues.map((q) => q.queue.close())); } };
}

/** Recent events read back from the sink queues (completed jobs are kept an hour), newest first. */
async function recentEvents(queues: { sink: string; queue: Queue }[], namespace: string | undefined, limit: number): Promise<RecentEvent[]> {
  const byId = new Map<string, RecentEvent>();
  for (const { sink, queue } of queues) {
    const jobs = await queue.getJobs(['completed', 'failed', 'waiting', 'active', 'delayed'], 0, limit * 2);
    for (const job of jobs) {
      const env = job?.data as Envelope | undefined;
      if (!env?.event || (namespace && env.event.namespace !== namespace)) continue;
      const e = env.event;
      const row = byId.get(e.id) ?? { id: e.id, type: e.type, platform: e.platform, namespace: e.namespace, participantid: e.participantid, receivedat: e.receivedat, delivered: [], pending: [], failed: [] };
      const state = job.finishedOn ? (job.failedReason ? 'failed' : 'delivered') : 'pending';
      row[state].push(sink);
      byId.set(e.id, row);
    }
  }
  return [...byId.values()].sort((a, b) => b.receivedat.localeCompare(a.receivedat)).slice(0, limit);
}
