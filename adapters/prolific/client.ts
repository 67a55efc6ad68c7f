import type { Redis } from 'ioredis';
import type { StudyhookEvent } from '../../src/event/build-event.js';
import { isStale, type StalenessOptions } from './ordering.js';
import { assertSecureUrl } from '../../src/util/secure-url.js';

/** `platforms.prolific.client` in the config. */
export interface ProlificClientOptions {
  /** API root without `/api/v1` (default `https://api.prolific.com`). */
  baseUrl?: string;
  /** API token (`Authorization: Token <token>`); put it in the config as `${PROLIFIC_TOKEN}`. */
  token?: string;
  /** Attempts per call when Prolific answers 429 (default 5). */
  maxAttempts?: number;
  /** First back-off delay when a 429 has no Retry-After (default 1000 ms, doubled each time). */
  backoffMs?: number;
  /** How long one call may wait for Prolific's answer (default 30000 ms). */
  timeoutMs?: number;
}

/** A non-2xx answer. 4xx other than 408/429 are marked permanent, so a sink that lets it escape is not retried. */
export class ProlificApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    what: string,
  ) {
    super(`Prolific API ${what} answered ${status}`);
    this.name = 'ProlificApiError';
    // why: the brand PermanentError checks (src/errors.ts), set only for answers a retry cannot fix.
    Object.defineProperty(this, Symbol.for('studyhook.permanent-error'), {
      value: status >= 400 && status < 500 && status !== 408 && status !== 429,
    });
  }
}

export type RejectionCategory =
  | 'TOO_QUICKLY'
  | 'TOO_SLOWLY'
  | 'FAILED_INSTRUCTIONS'
  | 'INCOMP_LONGITUDINAL'
  | 'FAILED_CHECK'
  | 'LOW_EFFORT'
  | 'MALINGERING'
  | 'NO_CODE'
  | 'BAD_CODE'
  | 'NO_DATA'
  | 'UNSUPP_DEVICE'
  | 'OTHER';

/** Body of `POST /api/v1/submissions/{id}/transition/` (docs: api-reference/submissions/transition-submission). */
export type SubmissionTransition =
  | { action: 'APPROVE' | 'RETURN' | 'SCREEN_OUT' | 'START' | 'UNREJECT' | 'UNRETURN' }
  | { action: 'REJECT'; message: string; rejection_category: RejectionCategory }
  | {
      action: 'COMPLETE';
      completion_code: string;
      completion_code_data?: { percentage_of_reward?: number; message_to_participant?: string };
    };

/** One delivery in a subscription's log (`GET /api/v1/hooks/subscriptions/{id}/events/`). */
export interface ProlificDelivery {
  id: string;
  datetime_created?: string;
  datetime_updated?: string;
  event_type?: string;
  resource_id?: string;
  status?: string;
  target_url?: string;
  payload?: Record<string, unknown>;
}

/** A submission as the study's submissions list gives it (the list shape has `participant_id`, the detail shape `participant`). */
export interface ProlificSubmission {
  id: string;
  status?: string;
  participant_id?: string;
  participant?: string;
  study_id?: string;
  started_at?: string;
  completed_at?: string;
}

/** The most pages read from one list: a guard against a server whose `next` never ends. */
const MAX_PAGES = 100_000;

/**
 * Whether another page follows: the `_links.next.href` Prolific's lists carry when present, else
 * `meta.count`, else a full page.
 */
function hasNext(body: Json, got: number, pageSize: number, seen: number): boolean {
  if (got === 0) return false;
  const links = body['_links'] as { next?: { href?: unknown } | null } | undefined;
  if (links && typeof links === 'object')
    return typeof links.next?.href === 'string' && links.next.href !== '';
  const count = (body['meta'] as { count?: unknown } | undefined)?.count;
  if (typeof count === 'number') return seen < count;
  return got >= pageSize;
}

/** A webhook subscription as Prolific lists it. */
export interface ProlificSubscription {
  id: string;
  event_type: string;
  target_url: string;
  workspace_id: string;
  is_enabled: boolean;
}

type Json = Record<string, unknown>;

/** The Prolific API client offered to sinks as `ctx.clients.prolific` (and used by `studyhook prolific`). */
export function createProlificClient(opts: ProlificClientOptions) {
  const base = (opts.baseUrl ?? 'https://api.prolific.com').replace(/\/+$/, '');
  assertSecureUrl(base, 'the Prolific API base URL');
  const attempts = opts.maxAttempts ?? 5;
  const backoff = opts.backoffMs ?? 1000;
  const timeout = opts.timeoutMs ?? 30_000;

  async function call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; headers: Headers; json: unknown }> {
    if (!opts.token)
      throw new Error(
        'Prolific API token missing: set platforms.prolific.client.token (e.g. ${PROLIFIC_TOKEN})',
      );
    for (let attempt = 1; ; attempt += 1) {
      // why: without a deadline a hung API (or proxy) holds a call for Node's 300 s header timeout,
      // or for ever while it trickles bytes; `study approve` would then neither finish nor stop.
      const signal = AbortSignal.timeout(timeout);
      let res: Response;
      let text: string;
      try {
        res = await fetch(`${base}/api/v1/${path}`, {
          method,
          signal,
          headers: {
            Authorization: `Token ${opts.token}`,
            Accept: 'application/json',
            ...(body !== undefined && { 'Content-Type': 'application/json' }),
          },
          ...(body !== undefined && { body: JSON.stringify(body) }),
        });
        text = await res.text();
      } catch (err) {
        if (!signal.aborted) throw err;
        // Not a ProlificApiError: no answer, so not permanent (a retry may succeed; an approval may have been made).
        throw new Error(
          `Prolific API ${method} /api/v1/${path} did not answer within ${timeout} ms`,
          {
            cause: err,
          },
        );
      }
      let json: unknown = text;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        /* keep the text */
      }
      // why: 429s come mostly from wallet contention on approvals; back off, honouring Retry-After (docs: managing-high-loads).
      // A longer wait is left to the sink queue's own retry (the error below is not permanent).
      const wait = retryAfterMs(res.headers.get('retry-after')) ?? backoff * 2 ** (attempt - 1);
      if (res.status === 429 && attempt < attempts && wait <= 60_000) {
        await sleep(wait);
        continue;
      }
      if (!res.ok) throw new ProlificApiError(res.status, json, `${method} /api/v1/${path}`);
      return { status: res.status, headers: res.headers, json };
    }
  }
  const get = async (path: string) => (await call('GET', path)).json as Json;
  const post = async (path: string, body: unknown) => (await call('POST', path, body)).json as Json;
  const q = (params: Record<string, string>) => new URLSearchParams(params).toString();

  return {
    getSubmission: (id: string) => get(`submissions/${enc(id)}/`),
    transitionSubmission(id: string, transition: SubmissionTransition) {
      if (transition.action === 'REJECT' && transition.message.length < 100)
        throw new Error('Prolific needs a rejection message of at least 100 characters');
      return post(`submissions/${enc(id)}/transition/`, transition);
    },
    /** Asynchronous on Prolific's side ("Bulk approve in progress"). */
    bulkApprove: (
      target: { submission_ids: string[] } | { study_id: string; participant_ids: string[] },
    ) => post('submissions/bulk-approve/', target),
    getStudy: (id: string) => get(`studies/${enc(id)}/`),
    /** True when this event is older than the newest seen for its resource; see ordering.ts. */
    isStale: (event: StudyhookEvent, redis: Redis, o?: StalenessOptions) =>
      isStale(event, redis, o),

    listSecrets: async (workspaceId: string) =>
      ((await get(`hooks/secrets/?${q({ workspace_id: workspaceId })}`)).results ?? []) as {
        id: string;
        value: string;
        workspace_id: string;
      }[],
    /** Creates the workspace secret, replacing (deleting) any existing one. */
    createSecret: async (workspaceId: string) =>
      (await post('hooks/secrets/', { workspace_id: workspaceId })) as {
        id: string;
        value: string;
      },
    listSubscriptions: async (workspaceId: string) =>
      ((await get(`hooks/subscriptions/?${q({ workspace_id: workspaceId })}`)).results ??
        []) as ProlificSubscription[],
    /** Creates a subscription; returns its id and the one-time confirmation secret (the X-Hook-Secret response header). */
    async createSubscription(s: { workspace_id: string; event_type: string; target_url: string }) {
      const res = await call('POST', 'hooks/subscriptions/', s);
      const body = res.json as Json & { results?: Json[] };
      // why: the docs show `{"results": [...]}`, the official CLI a single object; accept both (prolific.md open question 4).
      const id = body.id ?? body.results?.[0]?.['id'];
      const secret = res.headers.get('x-hook-secret');
      if (typeof id !== 'string' || !secret)
        throw new ProlificApiError(
          res.status,
          body,
          'create subscription (no id or X-Hook-Secret)',
        );
      return { id, secret };
    },
    confirmSubscription: (id: string, secret: string) =>
      post(`hooks/subscriptions/${enc(id)}/`, {
        secret,
      }) as Promise<unknown> as Promise<ProlificSubscription>,
    deleteSubscription: async (id: string) => {
      await call('DELETE', `hooks/subscriptions/${enc(id)}/`);
    },
    /** A subscription's delivery log, page by page (`offset`/`limit`), oldest first as Prolific lists it. */
    async *subscriptionEvents(id: string, pageSize = 100): AsyncGenerator<ProlificDelivery[]> {
      let seen = 0;
      for (let page = 0; page < MAX_PAGES; page++) {
        const body = await get(
          `hooks/subscriptions/${enc(id)}/events/?${q({ offset: String(seen), limit: String(pageSize) })}`,
        );
        const results = (Array.isArray(body.results) ? body.results : []) as ProlificDelivery[];
        seen += results.length;
        if (results.length) yield results;
        if (!hasNext(body, results.length, pageSize, seen)) return;
      }
    },
    /** A study's submissions, page by page (`GET /api/v1/submissions/?study=<id>&page=&page_size=`). */
    async *studySubmissions(studyId: string, pageSize = 100): AsyncGenerator<ProlificSubmission[]> {
      let seen = 0;
      for (let page = 1; page <= MAX_PAGES; page++) {
        const body = await get(
          `submissions/?${q({ study: studyId, page: String(page), page_size: String(pageSize) })}`,
        );
        const results = (Array.isArray(body.results) ? body.results : []) as ProlificSubmission[];
        seen += results.length;
        if (results.length) yield results;
        if (!hasNext(body, results.length, pageSize, seen)) return;
      }
    },
  };
}

export type ProlificClient = ReturnType<typeof createProlificClient>;

const enc = encodeURIComponent;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function retryAfterMs(value: string | null): number | undefined {
  if (value === null) return undefined;
  // why decimals too: `1.5` was read as a date (the year 2001), so every retry went at once.
  if (/^\d+(\.\d+)?$/.test(value.trim())) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}
