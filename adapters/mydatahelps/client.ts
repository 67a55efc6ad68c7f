import { createPrivateKey, createSign, randomUUID, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { PermanentError, StudyhookError } from '../../src/errors.js';
import type { MyDataHelpsClientConfig } from '../../src/generated/mydatahelps-client.js';
import { validateConfig } from '../../src/schemas.js';
import { createTokenCache } from '../../src/util/token-cache.js';
import { assertSecureUrl } from '../../src/util/secure-url.js';

/** One answer of a survey result, as the MyDataHelps REST API returns it (fields beyond these are kept). */
export interface SurveyAnswer {
  id?: string;
  surveyResultID?: string;
  stepIdentifier?: string;
  resultIdentifier?: string;
  answers?: string[];
  [k: string]: unknown;
}

/** The MyDataHelps REST API client sinks get as `ctx.clients.mydatahelps`. */
export interface MyDataHelpsClient {
  /** A service access token (cached until shortly before it expires). */
  accessToken(): Promise<string>;
  /** GET `<baseUrl>/api/v1/administration/projects/<projectId>/<path>` with the query, as JSON. */
  get(projectId: string, path: string, query?: Record<string, string>): Promise<unknown>;
  /** Every answer of one survey result (event `data.ProjectID`, `subject` of a `mydatahelps.survey.submitted` event). */
  surveyAnswers(projectId: string, surveyResultId: string): Promise<SurveyAnswer[]>;
}

function base64url(value: string | Buffer): string {
  return Buffer.from(value).toString('base64url');
}

/** The signed JWT assertion MyDataHelps exchanges for a token (MDH-API-AUTH): iss = sub = account, aud = token URL. */
export function signAssertion(
  key: KeyObject,
  account: string,
  tokenUrl: string,
  now = Date.now(),
): string {
  const head = base64url(JSON.stringify({ alg: 'RS256', typ: 'JWT' }));
  const claims = base64url(
    JSON.stringify({
      iss: account,
      sub: account,
      aud: tokenUrl,
      exp: Math.floor(now / 1000) + 200,
      jti: randomUUID(),
    }),
  );
  const signature = createSign('RSA-SHA256').update(`${head}.${claims}`).sign(key);
  return `${head}.${claims}.${base64url(signature)}`;
}

async function fail(res: Response, what: string): Promise<never> {
  const message = `MyDataHelps ${what} answered ${res.status}`;
  await res.body?.cancel();
  // why: a 4xx will not change on retry (bad credentials, unknown project); a 5xx or 429 might.
  throw res.status >= 400 && res.status < 500 && res.status !== 429
    ? new PermanentError(message)
    : new Error(message);
}

/** Builds the client from `platforms.mydatahelps.client`; a bad key fails at start, missing credentials at first use. */
export function createMyDataHelpsClient(raw: Record<string, unknown>): MyDataHelpsClient {
  const config = { ...raw } as MyDataHelpsClientConfig;
  const problems = validateConfig('studyhook/mydatahelps/client', config);
  if (problems.length > 0)
    throw new StudyhookError(
      'SH_CONFIG_INVALID',
      `platforms.mydatahelps.client: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`,
    );
  const baseUrl = (config.baseUrl ?? 'https://designer.mydatahelps.org').replace(/\/+$/, '');
  const tokenUrl = config.tokenUrl ?? `${baseUrl}/identityserver/connect/token`;
  assertSecureUrl(baseUrl, 'platforms.mydatahelps.client.baseUrl');
  assertSecureUrl(tokenUrl, 'platforms.mydatahelps.client.tokenUrl');
  const pem =
    config.privateKey ??
    (config.privateKeyFile ? readFileSync(config.privateKeyFile, 'utf8') : undefined);
  const key = pem === undefined ? undefined : createPrivateKey(pem);
  const timeout = (): AbortSignal => AbortSignal.timeout(config.timeoutMs ?? 15000);

  async function fetchToken(): Promise<{ token: string; expiresIn: number }> {
    if (!key || !config.serviceAccountName)
      throw new PermanentError(
        'platforms.mydatahelps.client needs serviceAccountName and privateKey (or privateKeyFile)',
      );
    const form = new URLSearchParams({
      scope: config.scope ?? 'api',
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: signAssertion(key, config.serviceAccountName, tokenUrl),
    });
    const res = await fetch(tokenUrl, {
      method: 'POST',
      body: form,
      headers: { Accept: 'application/json' },
      signal: timeout(),
    });
    if (!res.ok) return fail(res, 'token endpoint');
    const reply = (await res.json()) as { access_token?: string; expires_in?: number };
    if (!reply.access_token) throw new Error('MyDataHelps token endpoint sent no access_token');
    return { token: reply.access_token, expiresIn: reply.expires_in ?? 300 };
  }

  // why: the token "lives only a few minutes" (MDH-API-AUTH); renew 30 s early so a call never carries an expired one.
  const tokens = createTokenCache(fetchToken, 30);
  const accessToken = (): Promise<string> => tokens.get();

  async function get(
    projectId: string,
    path: string,
    query: Record<string, string> = {},
  ): Promise<unknown> {
    const url = `${baseUrl}/api/v1/administration/projects/${encodeURIComponent(projectId)}/${path}?${new URLSearchParams(query)}`;
    for (let attempt = 1; ; attempt += 1) {
      const res = await fetch(url, {
        headers: { Authorization: `Bearer ${await accessToken()}`, Accept: 'application/json' },
        signal: timeout(),
      });
      // why: a token revoked or expired early earns one fresh token, not a failed delivery.
      if (res.status === 401 && attempt === 1) {
        tokens.invalidate();
        await res.body?.cancel();
        continue;
      }
      if (!res.ok) return fail(res, `GET ${path}`);
      return res.json();
    }
  }

  async function surveyAnswers(projectId: string, surveyResultId: string): Promise<SurveyAnswer[]> {
    const all: SurveyAnswer[] = [];
    let pageID: string | undefined;
    do {
      const page = (await get(projectId, 'surveyanswers', {
        surveyResultID: surveyResultId,
        ...(pageID && { pageID }),
      })) as { surveyAnswers?: SurveyAnswer[]; nextPageID?: string | null };
      all.push(...(page.surveyAnswers ?? []));
      pageID = page.nextPageID ?? undefined;
    } while (pageID);
    // why: only the delegated endpoint documents the surveyResultID filter (MDH-IOS); filter again in case it is ignored.
    return all.filter((a) => a.surveyResultID === surveyResultId);
  }

  return { accessToken, get, surveyAnswers };
}
