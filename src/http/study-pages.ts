import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Queue } from 'bullmq';
import express, { type Response, type Router } from 'express';
import { archiveDirOf } from '../commands/export.js';
import type { ResolvedConfig } from '../config/load-config.js';
import type { Envelope } from '../event/build-event.js';
import { errorBody, StudyhookError } from '../errors.js';
import { findStudy } from '../study/find-study.js';
import { readStudy, type StudyState } from '../study/read-study.js';
import type { StudyDef } from '../study/types.js';
import { StudyError } from '../study/study-error.js';
import { usedParts } from '../study/study-parts.js';
import { readQuarantine } from './study-quarantine.js';
import { readableJobs } from '../queue/readable-jobs.js';
import {
  participantCells,
  notFoundHtml,
  PAGE_CSS,
  pageScript,
  quarantineHtml,
  studyListHtml,
  studyPageHtml,
} from './study-page-html.js';

/** How long a computed study state is served before it is read again (the page refreshes as often). */
const FRESH_MS = 30_000;
/** How far back the events-per-hour chart goes. */
const HOURS = 72;

// why: served from the installed package, never a CDN: a lab's server may be offline, and a page that
// shows participants must not tell a third party who looks at it.
const chartFile = join(
  dirname(createRequire(import.meta.url).resolve('chart.js')),
  'chart.umd.min.js',
);

/** Scripts and styles from this origin only; nothing inline, nothing elsewhere. */
const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

interface Cached {
  state?: StudyState;
  at: number;
  computing?: Promise<StudyState>;
  error?: string;
}

/** What the page's script reads from `data.json`. */
function pageData(
  state: StudyState,
  deadLetters: Record<string, number>,
  computedAt: number,
  computeMs: number,
  error: string | undefined,
) {
  const { summary, facts } = state;
  const used = usedParts(summary.namespaces);
  const bars = used.map((p) => ({ platform: p.platform, ...p.page?.funnel?.({ facts, summary }) }));
  // why: each bar names its platform, whose colour the page draws it in.
  const funnel = [
    ...bars.flatMap((b) => (b.steps ?? []).map(([label, n]) => [label, n, b.platform])),
    ...bars.flatMap((b) => (b.outcomes ?? []).map(([label, n]) => [label, n, b.platform])),
  ];
  return {
    summary,
    participants: state.participants,
    cells: state.participants.map(participantCells),
    cards: used.flatMap((p) => p.page?.cards?.(summary) ?? []),
    funnel,
    hourly: facts.hourly,
    deadLetters,
    computedAt: new Date(computedAt).toISOString(),
    computeMs,
    refreshSeconds: FRESH_MS / 1000,
    ...(error !== undefined && { error }),
  };
}

/** Dead letters (failed jobs) per sink queue whose event belongs to one of the study's namespaces. */
async function deadLetters(
  queues: readonly { sink: string; queue: Queue }[],
  namespaces: Record<string, string>,
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const { sink, queue } of queues) {
    const failed = await readableJobs(queue, ['failed'], 0, 9999);
    out[sink] = failed.filter((j) => {
      const e = (j?.data as Envelope | undefined)?.event;
      return e && Object.hasOwn(namespaces, e.platform) && namespaces[e.platform] === e.namespace;
    }).length;
  }
  return out;
}

/**
 * The live study pages under `/admin/studies` (behind the dashboard's admin guard): the list of
 * studies, `/admin/studies/<study>` (funnel, events per hour, participants, last events, quarantine and
 * dead letters; it refreshes itself), its `data.json`, and the study's quarantined payloads.
 * The study is read from the archive at most every 30 s, one read at a time, with one DuckDB thread.
 */
export function createStudyPages(
  config: ResolvedConfig,
  queues: readonly { sink: string; queue: Queue }[],
): Router {
  const archiveDir = archiveDirOf(config);
  const cache = new Map<string, Cached>();
  const router = express.Router();
  const page = (res: Response, html: string) => {
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send(html);
  };

  /** The study, or undefined after answering 404 with what exists. */
  async function studyOr404(name: string, res: Response): Promise<StudyDef | undefined> {
    try {
      return await findStudy(config, name, archiveDir);
    } catch (err) {
      if (!(err instanceof StudyError)) throw err;
      // why: answered here rather than thrown, so the reply does not depend on which copy of the error class the error handler sees.
      const body = errorBody(new StudyhookError('SH_NOT_FOUND', err.message));
      res.status(404).setHeader('Cache-Control', 'no-store');
      if (res.req.accepts(['json', 'html']) === 'html')
        page(res.status(404), notFoundHtml(body.message));
      else res.json(body);
      return undefined;
    }
  }

  async function state(
    study: StudyDef,
  ): Promise<{ state: StudyState; at: number; error?: string }> {
    const name = study.name;
    let c = cache.get(name);
    if (!c) cache.set(name, (c = { at: 0 }));
    const entry = c;
    if (!entry.computing && Date.now() - entry.at > FRESH_MS) {
      entry.computing = readStudy({
        study,
        archiveDir,
        dataDir: config.dataDir,
        threads: 1,
        memoryLimit: '256MB',
        hourlySince: new Date(Date.now() - HOURS * 3600_000),
      })
        .then((s) => {
          entry.state = s;
          entry.at = Date.now();
          delete entry.error;
          return s;
        })
        .catch((err: unknown) => {
          entry.error = (err as Error).message;
          entry.at = Date.now();
          throw err;
        })
        .finally(() => {
          delete entry.computing;
        });
    }
    // why: a stale state is served at once while a fresh one is read; only the first view waits.
    if (entry.state) {
      entry.computing?.catch(() => undefined);
      return {
        state: entry.state,
        at: entry.at,
        ...(entry.error !== undefined && { error: entry.error }),
      };
    }
    const s = await entry.computing!.catch((err: unknown) => {
      throw new StudyhookError('SH_INTERNAL', undefined, { cause: err });
    });
    return { state: s, at: entry.at };
  }

  router.get('/admin/studies/assets/chart.js', async (_req, res) => {
    res.type('js').setHeader('Cache-Control', 'max-age=3600');
    res.send(await readFile(chartFile));
  });
  router.get('/admin/studies/assets/study.js', (_req, res) => {
    res.type('js').send(pageScript());
  });
  router.get('/admin/studies/assets/study.css', (_req, res) => {
    res.type('css').send(PAGE_CSS);
  });
  router.get('/admin/studies', (_req, res) => {
    page(res, studyListHtml(Object.values(config.studies)));
  });
  router.get('/admin/studies/:study/data.json', async (req, res) => {
    const started = Date.now();
    const study = await studyOr404(req.params['study']!, res);
    if (!study) return;
    const { state: s, at, error } = await state(study);
    const dead = await deadLetters(queues, s.summary.namespaces);
    res.setHeader('Cache-Control', 'no-store');
    res.json(pageData(s, dead, at, Date.now() - started, error));
  });
  router.get('/admin/studies/:study/quarantine', async (req, res) => {
    const study = await studyOr404(req.params['study']!, res);
    if (study)
      page(res, quarantineHtml(study.name, await readQuarantine(config.dataDir, study.namespaces)));
  });
  router.get('/admin/studies/:study', async (req, res) => {
    const study = await studyOr404(req.params['study']!, res);
    if (study) page(res, studyPageHtml(study));
  });
  return router;
}
