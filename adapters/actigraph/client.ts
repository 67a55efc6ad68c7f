import type { ActiGraphClientConfig } from '../../src/generated/actigraph-client-config.js';
import { StudyhookError } from '../../src/errors.js';
import { validateConfig } from '../../src/schemas.js';
import { createTokenCache } from '../../src/util/token-cache.js';
import { assertSecureUrl } from '../../src/util/secure-url.js';

type Id = string | number;

/** Where a subject's data lives: the ids every `upload` event carries. */
export interface UploadRef {
  studyId: Id;
  subjectId: Id;
  uploadId: Id;
}

/** Body of `POST /dataretrieval/v3/EpochRequests` (epoch_data_requests.md); the defaults fill the rest. */
export interface EpochRequest {
  studyId: Id;
  subjectId: Id;
  activityMonitorSerial: string;
  beginTimestampUtc: string;
  endTimestampUtc: string;
  summaryLengthSeconds?: number;
  includePartialEpochs?: boolean;
  fileFormat?: 'csv';
}

/** Body of `POST /dataretrieval/v3/RawActivityRequests` (raw_data_request.md). */
export interface RawRequest {
  studyId: Id;
  subjectId: Id;
  beginTimestampUtc: string;
  endTimestampUtc: string;
  fileFormat?: 'gt3x' | 'csv' | 'avro';
}

/** A failed CentrePoint API call; `status` is the HTTP status (0 when the request never got an answer). */
export class ActiGraphApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'ActiGraphApiError';
  }
}

/** The CentrePoint V3 API client offered to sinks as `ctx.clients.actigraph`. */
export interface ActiGraphClient {
  /** An OAuth2 client-credentials access token, cached until shortly before it expires. */
  token(): Promise<string>;
  /** Upload details (files, monitor serial, data range) for an `upload` event's ids. */
  getUpload(ref: UploadRef): Promise<Record<string, unknown>>;
  /** Starts an epoch (summary) CSV export; returns the tracking record (`id`). */
  requestEpochData(req: EpochRequest): Promise<Record<string, unknown>>;
  /** Starts a raw data export; completion arrives as a `data_retrieval_complete` webhook. */
  requestRawData(req: RawRequest): Promise<Record<string, unknown>>;
  /** A signed download URL of a data file named by a data-retrieval request. */
  getDownloadUrl(dataFileId: Id): Promise<Record<string, unknown>>;
  /** Any other V3 call, with the token, the 429 handling and JSON decoding. */
  request(method: string, path: string, body?: unknown): Promise<unknown>;
}

const seg = (v: Id): string => encodeURIComponent(String(v));

/** why: Retry-After is seconds or an HTTP date; the V3 API answers 429 past 500 requests a minute (README.md, A-V3). */
function retryAfterMs(header: string | null): number {
  if (!header) return 1000;
  const secs = Number(header);
  if (Number.isFinite(secs)) return Math.max(0, secs * 1000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? 1000 : Math.max(0, at - Date.now());
}

/** Builds the client from `platforms.actigraph.client` (checked against its schema, defaults filled). */
export function createActiGraphClient(raw: Record<string, unknown>): ActiGraphClient {
  const config = { ...raw };
  const problems = validateConfig('studyhook/actigraph/client-config', config);
  if (problems.length > 0)
    throw new StudyhookError(
      'SH_CONFIG_INVALID',
      `platforms.actigraph.client: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`,
    );
  const c = config as Required<ActiGraphClientConfig>;
  assertSecureUrl(c.baseUrl, 'platforms.actigraph.client.baseUrl');
  assertSecureUrl(c.tokenUrl, 'platforms.actigraph.client.tokenUrl');

  async function fetchWithRetry(url: string, init: RequestInit): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const res = await fetch(url, init);
      if (res.status !== 429 || attempt >= c.maxRetries) return res;
      await res.body?.cancel();
      await new Promise((r) =>
        setTimeout(
          r,
          Math.min(retryAfterMs(res.headers.get('retry-after')), c.maxRetryWaitSeconds * 1000),
        ),
      );
    }
  }

  async function fetchToken(): Promise<{ token: string; expiresIn: number }> {
    if (!c.clientId || !c.clientSecret)
      throw new ActiGraphApiError(0, 'platforms.actigraph.client needs clientId and clientSecret');
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: c.clientId,
      client_secret: c.clientSecret,
      scope: c.scope,
    });
    const res = await fetchWithRetry(c.tokenUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: form,
    });
    if (!res.ok)
      throw new ActiGraphApiError(
        res.status,
        `CentrePoint token request failed with ${res.status}`,
      );
    const t = (await res.json()) as { access_token?: string; expires_in?: number };
    if (!t.access_token)
      throw new ActiGraphApiError(res.status, 'CentrePoint token response has no access_token');
    return { token: t.access_token, expiresIn: t.expires_in ?? 3600 };
  }

  // why: renew a minute early so that a token never expires in flight.
  const tokens = createTokenCache(fetchToken, 60);
  const token = (): Promise<string> => tokens.get();

  async function request(method: string, path: string, body?: unknown): Promise<unknown> {
    const url = new URL(path, c.baseUrl).toString();
    for (let fresh = false; ; fresh = true) {
      const headers: Record<string, string> = {
        authorization: `Bearer ${await token()}`,
        accept: 'application/json',
      };
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetchWithRetry(url, {
        method,
        headers,
        ...(body !== undefined && { body: JSON.stringify(body) }),
      });
      // why: a token revoked before its expiry gets one retry with a new token.
      if (res.status === 401 && !fresh) {
        tokens.invalidate();
        await res.body?.cancel();
        continue;
      }
      if (!res.ok)
        throw new ActiGraphApiError(
          res.status,
          `CentrePoint ${method} ${path} failed with ${res.status}`,
        );
      const text = await res.text();
      return text ? JSON.parse(text) : undefined;
    }
  }

  const call = (method: string, path: string, body?: unknown) =>
    request(method, path, body) as Promise<Record<string, unknown>>;
  return {
    token,
    request,
    getUpload: (r) =>
      call(
        'GET',
        `/centrepoint/v3/Studies/${seg(r.studyId)}/Subjects/${seg(r.subjectId)}/Uploads/${seg(r.uploadId)}`,
      ),
    requestEpochData: (r) =>
      call('POST', '/dataretrieval/v3/EpochRequests', {
        fileFormat: 'csv',
        summaryLengthSeconds: 60,
        includePartialEpochs: false,
        ...r,
        studyId: Number(r.studyId),
        subjectId: Number(r.subjectId),
      }),
    requestRawData: (r) =>
      call('POST', '/dataretrieval/v3/RawActivityRequests', {
        fileFormat: 'csv',
        ...r,
        studyId: Number(r.studyId),
        subjectId: Number(r.subjectId),
      }),
    getDownloadUrl: (id) => call('GET', `/dataretrieval/v3/DataFiles/${seg(id)}/downloadurl`),
  };
}
