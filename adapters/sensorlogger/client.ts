import { Readable } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { BlobStore } from '../../src/blobs/blob-store.js';
import { PermanentError, StudyhookError } from '../../src/errors.js';
import type { StudyhookEvent } from '../../src/generated/event.js';
import type { SensorLoggerClientConfig } from '../../src/generated/sensorlogger-client.js';
import type { SensorLoggerSettings } from '../../src/generated/sensorlogger-settings.js';
import { validateConfig } from '../../src/schemas.js';
import { openRecording, type Recording } from './recording.js';

/** A recording as the Study API sends it; stream `body` exactly once. */
export interface Download {
  body: Readable;
  /** The response's Content-Type (undocumented by Sensor Logger: do not rely on it). */
  contentType: string | undefined;
  /** File name from Content-Disposition, when the API sends one (path parts removed). */
  fileName: string | undefined;
}

/**
 * The Sensor Logger Study API for sinks: `ctx.clients.sensorlogger`. Requests go only to the
 * configured `baseUrl`. 4xx answers (except 408/429) throw a {@link PermanentError} (no retry);
 * 5xx, 408, 429, timeouts and network errors throw a plain Error (retried with backoff).
 */
export interface SensorLoggerClient {
  readonly baseUrl: string;
  /** `GET /api/study/file/v1?studyId&uploadId` with `Authorization: <secretCode>`. */
  download(studyId: string, uploadId: string, secretCode: string): Promise<Download>;
  /** Opens the recording of a `sensorlogger.recording.stored` event (pass the delivery `ctx`, for its blob store). */
  openRecording(event: StudyhookEvent, ctx: { blobs: BlobStore }): Promise<Recording>;
  /**
   * Posts a report the participant sees next to the recording (Notify & Respond Studies): a string
   * is sent as `text/markdown`, bytes as `application/pdf`. Without `secretCode`, the namespace's
   * single configured Study code is used.
   */
  respond(event: StudyhookEvent, report: string | Uint8Array, secretCode?: string): Promise<void>;
  /**
   * The namespace's Study code when exactly one is configured (`secretCodes`), else undefined: what
   * a sink falls back to when an event reaches it without `ctx.secrets.secretCode` (a replayed dead
   * letter or a republished upload, whose code is not kept).
   */
  configuredCode(namespace: string): string | undefined;
}

type Config = Required<SensorLoggerClientConfig>;

function resolveConfig(given: Record<string, unknown>): Config {
  const cfg = structuredClone(given);
  const problems = validateConfig('studyhook/sensorlogger/client', cfg);
  if (problems.length > 0) {
    const list = problems
      .map((p) => `  /platforms/sensorlogger/client${p.path === '/' ? '' : p.path}: ${p.message}`)
      .join('\n');
    throw new StudyhookError('SH_CONFIG_INVALID', `Invalid configuration:\n${list}`, {
      details: problems,
    });
  }
  const c = cfg as Config;
  return { ...c, baseUrl: c.baseUrl.replace(/\/$/, '') };
}

// why: the code goes into a header as is (STUDY_API.md: no Bearer prefix, no spaces); anything else
// would make fetch throw, and retrying cannot fix it.
function checkCode(code: string | undefined): string {
  if (!code || !/^[\x21-\x7e]+$/.test(code))
    throw new PermanentError('no usable Sensor Logger secretCode (pass ctx.secrets.secretCode)');
  return code;
}

function idsOf(event: StudyhookEvent): { studyId: string; uploadId: string } {
  const data = (event.data ?? {}) as { studyId?: unknown; uploadId?: unknown };
  const studyId = typeof data.studyId === 'string' ? data.studyId : event.studyid;
  const uploadId = typeof data.uploadId === 'string' ? data.uploadId : event.subject;
  if (!studyId || !uploadId)
    throw new PermanentError(
      `event ${event.id} (${event.type}) names no Sensor Logger study and upload`,
    );
  return { studyId, uploadId };
}

async function failure(res: Response, what: string): Promise<Error> {
  const text = (await res.text().catch(() => '')).slice(0, 300);
  const message = `Sensor Logger ${what}: HTTP ${res.status}${text ? `: ${text}` : ''}`;
  const permanent =
    res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429;
  return permanent ? new PermanentError(message) : new Error(message);
}

function fileNameOf(disposition: string | null): string | undefined {
  const m = disposition?.match(/filename\*?=(?:UTF-8'')?"?([^";]+)"?/i);
  let name: string | undefined;
  try {
    name = m?.[1] ? decodeURIComponent(m[1]).split(/[\\/]/).pop() : undefined;
  } catch {
    return undefined;
  } // malformed %-escape
  return name && name !== '.' && name !== '..' ? name : undefined;
}

/** Builds `ctx.clients.sensorlogger` from `platforms.sensorlogger.client`; bad settings fail at start. */
export function createSensorLoggerClient(
  given: Record<string, unknown>,
  namespaces: Record<string, SensorLoggerSettings>,
): SensorLoggerClient {
  const cfg = resolveConfig(given);
  // why: the host is never taken from a webhook call (it carries only ids), so a forged call cannot
  // point the gateway, and the Study code, at another server.
  const urlOf = (path: string, studyId: string, uploadId: string) =>
    `${cfg.baseUrl}${path}?${new URLSearchParams({ studyId, uploadId })}`;

  async function call(what: string, url: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(url, init);
    } catch (err) {
      const e = err as Error & { cause?: Error };
      throw new Error(`Sensor Logger ${what}: ${e.cause?.message ?? e.message}`, { cause: err });
    }
  }

  function configuredCode(namespace: string): string | undefined {
    const codes = (namespaces[namespace] ?? namespaces['*'])?.secretCodes;
    return codes?.length === 1 ? codes[0] : undefined;
  }

  return {
    baseUrl: cfg.baseUrl,
    async download(studyId, uploadId, secretCode) {
      const res = await call('download', urlOf('/api/study/file/v1', studyId, uploadId), {
        headers: { Authorization: checkCode(secretCode) },
        signal: AbortSignal.timeout(cfg.downloadTimeoutMs),
      });
      if (!res.ok) throw await failure(res, 'download');
      return {
        body: res.body
          ? Readable.fromWeb(res.body as WebReadableStream<Uint8Array>)
          : Readable.from([]),
        contentType: res.headers.get('content-type') ?? undefined,
        fileName: fileNameOf(res.headers.get('content-disposition')),
      };
    },
    openRecording: (event, ctx) => openRecording(event, ctx.blobs),
    configuredCode,
    async respond(event, report, secretCode) {
      const { studyId, uploadId } = idsOf(event);
      const headers = {
        Authorization: checkCode(secretCode ?? configuredCode(event.namespace)),
        'Content-Type': typeof report === 'string' ? 'text/markdown' : 'application/pdf',
      };
      const url = urlOf('/api/study/webhook/v1', studyId, uploadId);
      const body = typeof report === 'string' ? report : new Blob([new Uint8Array(report)]);
      const send = (method: string) =>
        call('report upload', url, {
          method,
          headers,
          body,
          signal: AbortSignal.timeout(cfg.requestTimeoutMs),
        });
      let res = await send(cfg.respondMethod);
      // why: STUDY_WEBHOOKS.md says POST, the official demo sends PUT, and which one the server takes is
      // undocumented; we follow the docs and, on 404/405, try the demo's method once.
      if (cfg.respondFallback && (res.status === 404 || res.status === 405)) {
        await res.body?.cancel();
        res = await send(cfg.respondMethod === 'POST' ? 'PUT' : 'POST');
      }
      if (!res.ok) throw await failure(res, 'report upload');
      await res.body?.cancel();
    },
  };
}
