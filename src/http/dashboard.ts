import { createBullBoard } from '@bull-board/api';
import { BullMQAdapter } from '@bull-board/api/bullMQAdapter';
import { ExpressAdapter } from '@bull-board/express';
import express, { type RequestHandler, type Router } from 'express';
import type { ResolvedConfig } from '../config/load-config.js';
import type { Metrics } from '../metrics/metrics.js';
import { archiveDirOf } from '../commands/export.js';
import { openQueue } from '../queue/redis.js';
import { createArchiveCounts, type NamespaceCount } from './archive-counts.js';
import { renderEvents } from './dashboard-page.js';
import { failures, quarantined, recentEvents, type EventRow } from './overview-data.js';
import { OVERVIEW_CSS, OVERVIEW_HTML, OVERVIEW_SCRIPT } from './overview-page.js';
import { createStudyPages } from './study-pages.js';

export interface Dashboard {
  router: Router;
  close(): Promise<void>;
}

/** How often the overview page reads its data again. */
const REFRESH_SECONDS = 10;
/**
 * Every other page under /admin (Bull Board, /admin/events): scripts (and Bull Board's highlighting
 * worker) from this origin only, never inline; inline styles allowed; nothing from elsewhere.
 */
const ADMIN_CSP =
  "default-src 'none'; script-src 'self'; worker-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
/** Scripts and styles from this origin only; nothing inline, nothing elsewhere (as the study pages). */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/**
 * The operator's dashboard under `/admin`: `/admin/overview` (counts per platform and namespace from
 * the archive, events per hour, dead letters with their errors, the quarantine, recent events; event
 * ids searchable; it refreshes itself), Bull Board for the queues' internals (`/admin/queues`: jobs,
 * retry buttons), `/admin/events` (the recent events as a plain table) and the study pages.
 * Everything sits behind `guard` (the admin token).
 */
export function createDashboard(
  config: ResolvedConfig,
  guard: RequestHandler,
  metrics?: Metrics,
): Dashboard {
  const queues = config.sinks.map((s) => {
    const q = openQueue(s.name, config.redis.url, config.redis.prefix);
    return { sink: s.name, queue: q };
  });
  // why: the API process is the one Prometheus scrapes; a worker-only process serves no HTTP.
  if (metrics) {
    metrics.onScrape(async () => {
      for (const { sink, queue } of queues) {
        const counts = await queue.getJobCounts(
          'waiting',
          'active',
          'delayed',
          'failed',
          'completed',
        );
        for (const [state, n] of Object.entries(counts)) metrics.queueDepth.set({ sink, state }, n);
      }
    });
  }
  const board = new ExpressAdapter();
  board.setBasePath('/admin/queues');
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q.queue)),
    serverAdapter: board,
    options: { uiConfig: { boardTitle: 'studyhook' } },
  });

  const router = express.Router();
  router.use('/admin', guard);
  // why: these pages show what participants' browsers sent (ids, file names, errors), so each one
  // keeps a CSP that runs no script but ours even if some markup got through; a page with a
  // stricter one (overview, study pages) replaces it. Bull Board needs inline styles only (its
  // bootstrap config is JSON, not script), and asks Google Fonts for its typeface: refused here, as
  // the study pages never tell a third party who looks at participants' data. And no browser keeps
  // a copy of such a page or of the board's job data on disk.
  router.use('/admin', (_req, res, next) => {
    res.setHeader('Content-Security-Policy', ADMIN_CSP).setHeader('Cache-Control', 'no-store');
    next();
  });
  router.use('/admin/queues', board.getRouter() as RequestHandler);
  router.get('/admin/events', async (req, res) => {
    const namespace =
      typeof req.query['namespace'] === 'string' ? req.query['namespace'] : undefined;
    const events = await recentEvents(
      queues,
      100,
      namespace === undefined ? undefined : (e) => e.namespace === namespace,
    );
    if (req.accepts(['html', 'json']) === 'json') res.json({ events });
    else res.type('html').send(renderEvents(events, namespace));
  });
  const counts = createArchiveCounts(archiveDirOf(config));
  const hasArchive = config.sinks.some((s) => s.use === 'filesystem');
  router.get('/admin/overview', (_req, res) => {
    res
      .setHeader('Content-Security-Policy', CSP)
      .setHeader('Cache-Control', 'no-store')
      .type('html')
      .send(OVERVIEW_HTML);
  });
  router.get('/admin/assets/overview.js', (_req, res) => {
    res.type('js').send(OVERVIEW_SCRIPT);
  });
  router.get('/admin/assets/overview.css', (_req, res) => {
    res.type('css').send(OVERVIEW_CSS);
  });
  router.get('/admin/overview/data.json', async (req, res) => {
    const q = typeof req.query['q'] === 'string' ? req.query['q'].trim().toLowerCase() : '';
    const hit = (...values: (string | undefined)[]) =>
      q === '' || values.some((v) => v?.toLowerCase().includes(q));
    await counts.update();
    const [events, failed, kept] = await Promise.all([
      recentEvents(queues, 200, (e: EventRow) =>
        hit(e.id, e.participantid, e.type, `${e.platform}/${e.namespace}`),
      ),
      failures(queues, 500),
      quarantined(config.dataDir, 500),
    ]);
    res.setHeader('Cache-Control', 'no-store').json({
      refreshSeconds: REFRESH_SECONDS,
      archive: hasArchive,
      namespaces: withConfigured(counts.namespaces()),
      hourly: counts.hourly(72),
      events,
      failures: failed.filter((f) =>
        hit(f.eventId, f.jobId, f.type, f.error, `${f.platform}/${f.namespace}`),
      ),
      quarantine: kept.filter((x) =>
        hit(x.requestid, x.route, x.problems.join(' '), `${x.platform}/${x.namespace}`),
      ),
    });
  });
  /** The counted namespaces, plus the configured ones that have no event yet (a new study shows up at 0). */
  function withConfigured(counted: NamespaceCount[]): NamespaceCount[] {
    const have = new Set(counted.map((c) => `${c.platform}/${c.namespace}`));
    const configured = Object.entries(config.platforms)
      .filter(([, p]) => p.enabled)
      .flatMap(([platform, p]) =>
        Object.keys(p.namespaces)
          .filter((ns) => ns !== '*' && !have.has(`${platform}/${ns}`))
          .map((namespace) => ({ platform, namespace, events: 0, last24h: 0, lastReceived: '' })),
      );
    return [...counted, ...configured].sort((a, b) =>
      `${a.platform}/${a.namespace}`.localeCompare(`${b.platform}/${b.namespace}`),
    );
  }
  router.use(createStudyPages(config, queues));
  router.get('/admin', (_req, res) => {
    res.redirect('/admin/overview');
  });
  return {
    router,
    async close() {
      await Promise.all(queues.map((q) => q.queue.close()));
    },
  };
}
