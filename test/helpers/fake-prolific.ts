// A fake Prolific API on 127.0.0.1 (real HTTP) that enforces the request shapes documented in
// ../shared/platforms/prolific.md: Token auth, trailing slashes, required fields, the subscription
// handshake (X-Hook-Secret, then confirm with {secret}) and 429s on demand.
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeSubscription {
  id: string;
  event_type: string;
  target_url: string;
  workspace_id: string;
  is_enabled: boolean;
  hookSecret: string;
}

export interface FakeProlific {
  baseUrl: string;
  token: string;
  secrets: Map<string, { id: string; value: string; workspace_id: string }>;
  subscriptions: Map<string, FakeSubscription>;
  submissions: Map<string, Record<string, unknown>>;
  /** Each subscription's delivery log (`GET /api/v1/hooks/subscriptions/{id}/events/`), oldest first. */
  deliveries: Map<string, Record<string, unknown>[]>;
  /** Every request: method, path (with query) and parsed body. */
  requests: { method: string; path: string; body: unknown }[];
  /** Answer the next `count` requests with 429 (and this Retry-After, if given). */
  throttle(count: number, retryAfter?: string): void;
  /** Answer 500 to every request after the next `count` ones that pass authentication (undefined: never). */
  failAfter(count: number | undefined): void;
  /** Submissions bulk-approve answers 200 for but does not approve (it is asynchronous on Prolific's side). */
  bulkSkip: Set<string>;
  /** `results`: create-subscription answers `{"results": [sub]}` as the docs show; `object`: a single object as the CLI expects. */
  createShape: 'results' | 'object';
  close(): Promise<void>;
}

const ACTIONS = [
  'APPROVE',
  'COMPLETE',
  'REJECT',
  'RETURN',
  'SCREEN_OUT',
  'START',
  'UNREJECT',
  'UNRETURN',
];
const CATEGORIES = [
  'TOO_QUICKLY',
  'TOO_SLOWLY',
  'FAILED_INSTRUCTIONS',
  'INCOMP_LONGITUDINAL',
  'FAILED_CHECK',
  'LOW_EFFORT',
  'MALINGERING',
  'NO_CODE',
  'BAD_CODE',
  'NO_DATA',
  'UNSUPP_DEVICE',
  'OTHER',
];
const oid = () => randomBytes(12).toString('hex');

export async function startFakeProlific(token = 'fake-api-token'): Promise<FakeProlific> {
  let throttled = 0;
  let retryAfter: string | undefined;
  let untilFailure: number | undefined;
  const fake: Omit<FakeProlific, 'baseUrl' | 'close'> = {
    token,
    secrets: new Map(),
    subscriptions: new Map(),
    submissions: new Map(),
    deliveries: new Map(),
    requests: [],
    bulkSkip: new Set(),
    createShape: 'results',
    throttle(count, after) {
      throttled = count;
      retryAfter = after;
    },
    failAfter(count) {
      untilFailure = count;
    },
  };
  /** One page of a list as Prolific pages it: `results`, `_links.next.href` (null on the last page) and `meta.count`. */
  const page = (all: unknown[], from: number, size: number, next: string) => {
    const results = all.slice(from, from + size);
    return {
      results,
      _links: { next: { href: from + size < all.length ? next : null } },
      meta: { count: all.length },
    };
  };
  const publicSub = ({ hookSecret: _h, ...s }: FakeSubscription) => s;

  function route(
    method: string,
    url: URL,
    body: Record<string, unknown>,
  ): [number, unknown, Record<string, string>?] {
    const p = url.pathname;
    const ws = url.searchParams.get('workspace_id');
    let m: RegExpMatchArray | null;
    if (method === 'GET' && p === '/api/v1/hooks/secrets/')
      return [
        200,
        { results: [...fake.secrets.values()].filter((s) => !ws || s.workspace_id === ws) },
      ];
    if (method === 'POST' && p === '/api/v1/hooks/secrets/') {
      const workspace =
        typeof body['workspace_id'] === 'string' ? body['workspace_id'] : 'default-ws';
      const secret = {
        id: oid(),
        value: randomBytes(24).toString('base64url'),
        workspace_id: workspace,
      };
      fake.secrets.set(workspace, secret); // create/replace: one active secret per workspace
      return [201, secret];
    }
    if (method === 'GET' && p === '/api/v1/hooks/subscriptions/')
      return [
        200,
        {
          results: [...fake.subscriptions.values()]
            .filter((s) => !ws || s.workspace_id === ws)
            .map(publicSub),
        },
      ];
    if (method === 'POST' && p === '/api/v1/hooks/subscriptions/') {
      const { event_type, target_url, workspace_id } = body;
      if (
        typeof event_type !== 'string' ||
        typeof target_url !== 'string' ||
        typeof workspace_id !== 'string'
      )
        return [400, { error: 'event_type, target_url and workspace_id are required' }];
      if (!target_url.startsWith('https://')) return [400, { error: 'target_url must be https' }];
      if (!fake.secrets.has(workspace_id))
        return [400, { error: 'create a workspace secret first' }];
      const sub: FakeSubscription = {
        id: oid(),
        event_type,
        target_url,
        workspace_id,
        is_enabled: false,
        hookSecret: randomBytes(16).toString('hex'),
      };
      fake.subscriptions.set(sub.id, sub);
      return [
        201,
        fake.createShape === 'results' ? { results: [publicSub(sub)] } : publicSub(sub),
        { 'X-Hook-Secret': sub.hookSecret },
      ];
    }
    if (method === 'GET' && (m = p.match(/^\/api\/v1\/hooks\/subscriptions\/([^/]+)\/events\/$/))) {
      if (!fake.subscriptions.has(m[1]!)) return [404, { error: 'not found' }];
      const offset = Number(url.searchParams.get('offset') ?? 0);
      const limit = Number(url.searchParams.get('limit') ?? 100);
      if (!Number.isInteger(offset) || !Number.isInteger(limit) || limit < 1)
        return [400, { error: 'offset and limit are integers' }];
      return [
        200,
        page(
          fake.deliveries.get(m[1]!) ?? [],
          offset,
          limit,
          `${p}?offset=${offset + limit}&limit=${limit}`,
        ),
      ];
    }
    if (method === 'GET' && p === '/api/v1/submissions/') {
      const study = url.searchParams.get('study');
      if (!study) return [400, { error: 'study is required' }];
      const n = Number(url.searchParams.get('page') ?? 1);
      const size = Number(url.searchParams.get('page_size') ?? 20);
      const all = [...fake.submissions.values()]
        .filter((x) => x['study_id'] === study)
        .map((x) => ({
          id: x['id'],
          participant_id: x['participant'],
          status: x['status'],
          study_id: x['study_id'],
          started_at: x['started_at'],
        }));
      return [
        200,
        page(all, (n - 1) * size, size, `${p}?study=${study}&page=${n + 1}&page_size=${size}`),
      ];
    }
    if ((m = p.match(/^\/api\/v1\/hooks\/subscriptions\/([^/]+)\/$/))) {
      const sub = fake.subscriptions.get(m[1]!);
      if (!sub) return [404, { error: 'not found' }];
      if (method === 'DELETE') {
        fake.subscriptions.delete(sub.id);
        return [204, undefined];
      }
      if (method === 'POST') {
        if (body['secret'] !== sub.hookSecret) return [400, { error: 'wrong secret' }];
        sub.is_enabled = true;
        return [200, publicSub(sub)];
      }
    }
    if (method === 'POST' && p === '/api/v1/submissions/bulk-approve/') {
      const ids = body['submission_ids'];
      const byStudy =
        typeof body['study_id'] === 'string' && Array.isArray(body['participant_ids']);
      if (!(Array.isArray(ids) && ids.length > 0) && !byStudy)
        return [400, { error: 'submission_ids, or study_id and participant_ids' }];
      for (const id of Array.isArray(ids) ? ids : []) {
        const s = fake.submissions.get(String(id));
        if (s && !fake.bulkSkip.has(String(id))) s['status'] = 'APPROVED';
      }
      return [200, 'Bulk approve in progress'];
    }
    if ((m = p.match(/^\/api\/v1\/submissions\/([^/]+)\/(transition\/)?$/))) {
      const sub = fake.submissions.get(m[1]!);
      if (!sub) return [404, { error: 'not found' }];
      if (method === 'GET' && !m[2]) return [200, sub];
      if (method === 'POST' && m[2]) {
        const action = body['action'];
        if (typeof action !== 'string' || !ACTIONS.includes(action))
          return [400, { error: 'unknown action' }];
        if (
          action === 'REJECT' &&
          (typeof body['message'] !== 'string' ||
            body['message'].length < 100 ||
            !CATEGORIES.includes(String(body['rejection_category'])))
        )
          return [400, { error: 'REJECT needs message (>= 100 chars) and rejection_category' }];
        if (action === 'COMPLETE' && typeof body['completion_code'] !== 'string')
          return [400, { error: 'COMPLETE needs completion_code' }];
        const to: Record<string, string> = {
          APPROVE: 'APPROVED',
          REJECT: 'REJECTED',
          RETURN: 'RETURNED',
          SCREEN_OUT: 'SCREENED OUT',
          COMPLETE: 'AWAITING REVIEW',
        };
        sub['status'] = to[action] ?? sub['status'];
        return [200, sub];
      }
    }
    if (method === 'GET' && (m = p.match(/^\/api\/v1\/studies\/([^/]+)\/$/)))
      return [200, { id: m[1], name: 'Fake study', status: 'ACTIVE' }];
    return [404, { error: `no route ${method} ${p}` }];
  }

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      let body: Record<string, unknown>;
      try {
        body = text ? JSON.parse(text) : {};
      } catch {
        res.writeHead(400).end('bad json');
        return;
      }
      fake.requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        body: text ? body : undefined,
      });
      const send = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
        res.writeHead(
          status,
          payload === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
        );
        res.end(payload === undefined ? undefined : JSON.stringify(payload));
      };
      if (req.headers.authorization !== `Token ${token}`) {
        send(401, { error: 'bad token' });
        return;
      }
      if (untilFailure !== undefined && untilFailure-- <= 0) {
        send(500, { error: 'Internal Server Error' });
        return;
      }
      if (throttled > 0) {
        throttled -= 1;
        send(
          429,
          { error: 'Too Many Requests' },
          retryAfter === undefined ? {} : { 'Retry-After': retryAfter },
        );
        return;
      }
      if (text && req.headers['content-type'] !== 'application/json') {
        send(415, { error: 'JSON only' });
        return;
      }
      const [status, payload, headers] = route(
        req.method ?? 'GET',
        new URL(req.url ?? '/', 'http://x'),
        body,
      );
      send(status, payload, headers);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, {
    baseUrl: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}
