import type { FileRef } from '../blobs/blob-store.js';
import type { ExportScan, TableBuilder } from '../export/types.js';
import type { Command } from '../command.js';
import type { EventDraft } from '../event/draft.js';
import type { Sink } from '../sinks/types.js';
import type { SchemaId } from '../schema-id.js';
import type { SchemaProblem } from '../schemas.js';
import type { StudyPart } from '../study/study-part.js';
import type { PlatformSample } from './sample.js';

export type { EventDraft };

/** What an adapter sees of an HTTP request: the raw bytes and lower-cased headers, nothing parsed by express. */
export interface IncomingRequest {
  method: string;
  platform: string;
  namespace: string;
  /** The route name ('' for the base URL). */
  route: string;
  /** Values of `:param` segments in the route's path. */
  params: Record<string, string>;
  headers: Record<string, string | undefined>;
  query: Record<string, string>;
  /** Raw body bytes, exactly as received (empty for multipart routes, whose parts are streamed). */
  body: Buffer;
  ip: string;
  requestId: string;
  receivedAt: Date;
}

/**
 * What verification established beyond yes/no (e.g. which form of a Prolific body was signed):
 * returned by the verifier, handed to normalise by the pipeline, and kept with a quarantined
 * request, so a republish normalises it the same way without the secret headers it was verified with.
 */
export type Verified = Readonly<Record<string, string>>;

/** How a route's body is parsed after verification. */
export type BodyKind = 'json' | 'json-any' | 'form' | 'json-or-form' | 'multipart' | 'none';

/** A multipart body: text fields and the files already streamed (fsync'd) into the blob store. */
export interface MultipartBody {
  fields: Record<string, string>;
  files: Record<string, FileRef>;
}

/** A reply in the platform's own shape. */
export interface Reply {
  status: number;
  headers?: Record<string, string>;
  body?: unknown;
}

/**
 * Checks a request on its raw bytes. Return false (or throw a StudyhookError) to refuse it with 401;
 * true, or what the check established ({@link Verified}), to accept it.
 */
export type Verifier<S> = (
  req: IncomingRequest,
  settings: S,
) => boolean | Verified | Promise<boolean | Verified>;

/** `verified`: what the route's verifier returned beyond `true` (empty when it returned `true`). */
export interface NormaliseInput<S, P> {
  payload: P;
  request: IncomingRequest;
  settings: S;
  verified: Verified;
}

/** One route of an adapter, in the order the core runs it: limits, verify, parse, validate, normalise, publish, reply. */
export interface RouteSpec<S = Record<string, unknown>, P = unknown> {
  /** '' for the base URL, a literal segment ('recordTrial') or a parameter (':token'). */
  path: string;
  /** Methods answered (POST by default). OPTIONS is answered by the core when `cors` is on. */
  methods?: readonly string[];
  body: BodyKind;
  /** Largest body (for multipart: largest file) accepted on this route, in bytes, or a function of the namespace's settings (default: server.bodyLimitBytes). */
  maxBytes?: number | ((settings: S) => number);
  /** Runs on the raw bytes before anything is parsed. Defaults to the adapter's verifier. */
  verify?: Verifier<S>;
  /** A request answered without publishing anything (e.g. ActiGraph's validation handshake). */
  handshake?: (req: IncomingRequest, settings: S) => Reply | undefined;
  /**
   * Payload schema id (src/generated/'s constant for a file in schemas/), or a function choosing it
   * from the request (e.g. from an event-type header). normalise gets the payload as its type.
   */
  schema?: SchemaId<P> | ((req: IncomingRequest) => SchemaId<P> | undefined);
  /**
   * What a payload that cannot be used gets (unreadable, over the parse limits, or failing the
   * schema), once verification passed: 'reject' answers 400/413/415/422 and keeps nothing;
   * 'quarantine' keeps the raw bytes and the request in `<dataDir>/quarantine` and replies `invalidReply`.
   */
  onInvalid?: 'reject' | 'quarantine';
  /** Reply sent after a payload was quarantined (default 422 with the problems); choose what stops the platform's retries. */
  invalidReply?: (problems: SchemaProblem[], req: IncomingRequest) => Reply;
  /** Pure: turns a valid payload into events. No I/O. */
  normalise: (input: NormaliseInput<S, P>) => EventDraft[];
  /** The reply after the events are durable (default 200 `{"ok":true}`); `data` is what normalise produced. */
  reply?: (
    events: readonly { id: string; type: string; data: unknown }[],
    req: IncomingRequest,
  ) => Reply;
  /** Answer CORS (preflight and actual responses) with the namespace's allowed origins. */
  cors?: boolean;
  /**
   * For signed routes: what the valid signature covered (e.g. the signing timestamp, the signature,
   * and the hash of the bytes it was computed over). The same signed request resent under another
   * event id (a new X-Event-ID) is then acknowledged but not delivered again, within `dedupTtlSeconds`.
   * `bodySha256` is the hash of the body as received; a verifier that accepts more than one byte
   * sequence for one signature (a re-encoded form, a BOM) must name the form it covered instead,
   * or the same request re-encoded is a new one.
   */
  replayKey?: (
    req: IncomingRequest,
    ctx: { bodySha256: string; verified: Verified },
  ) => readonly string[] | undefined;
}

/** A platform adapter: declarative, no I/O of its own. */
export interface Adapter<S = any> {
  platform: string;
  /** Schema id of one namespace's settings; checked at start-up. */
  settingsSchema?: SchemaId<S>;
  /** Namespaces served when the config says nothing about this platform. */
  defaultNamespaces?: Record<string, S>;
  /**
   * The platform calls again after an error reply (Prolific for 24 h, ActiGraph a day later). Only
   * then does `server.verifyFailureLimit` refuse a client that keeps failing verification with 429
   * before its signature is computed: for a platform that never retries, a valid call sharing its
   * address with a failing one would be lost.
   */
  retriesRefusedCalls?: boolean;
  /** Default verifier of every route (none when absent). */
  verify?: Verifier<S>;
  /** Origins allowed for CORS routes, from a namespace's settings. */
  allowedOrigins?: (settings: S) => readonly string[];
  /** Top-level payload fields that are secrets: redacted from quarantined payloads. */
  secretFields?: readonly string[];
  /** Header names (lower-case) never logged nor kept in the raw request. */
  secretHeaders?: readonly string[];
  /** Route parameters (`:token` → 'token') that are secrets: never kept with a quarantined request. */
  secretParams?: readonly string[];
  /** Each made with {@link defineRoute} when it has a schema, so that its normalise gets the schema's type. */
  routes: readonly RouteSpec<S, any>[];
  /** Builds the platform's API client offered to sinks as ctx.clients[platform]. */
  createClient?: (opts: {
    config: Record<string, unknown>;
    namespaces: Record<string, S>;
  }) => unknown;
  /** Realistic, correctly signed requests: `studyhook sample <platform>`, and the requests of the bench and the tests. */
  sample?: PlatformSample<S>;
  /** The platform's own CLI commands (`studyhook prolific subscribe ...`), listed after the core's. */
  commands?: readonly Command[];
  /** Sinks that work on this platform's events (Sensor Logger's `sensorlogger-fetch`): built-in sinks, picked by name with `use`. */
  sinks?: readonly Sink<any, any>[];
  /**
   * The platform's tables for `studyhook export` (and `study status`), built in this order when the
   * archive holds the platform's events; see docs/adding-a-platform.md.
   */
  exportTables?: readonly TableBuilder[];
  /** The platform's own pass over its archive files for the export, when its tables need more than the events (Labvanced: which trial variables exist). */
  exportScan?: ExportScan;
  /**
   * What the start-up banner tells the operator to register, when it is not the plain URL
   * `at.origin + at.path`: a URL with a masked secret in it (MyDataHelps), or the separate fields
   * a platform's settings page asks for (Labvanced: IP, Port, URL Path).
   */
  register?: (at: RegisterAt, settings: S) => { url?: string; fields?: readonly RegisterField[] };
  /** What `studyhook init` writes for this platform: its `pilot` namespace and the .env variables that namespace names. */
  starter?: Starter;
  /**
   * The platform's part in a study (`studies:`, `studyhook study`, the study page): its facts from
   * the archive, its part of a participant's row and classification, its columns; see
   * docs/adding-a-platform.md.
   */
  study?: StudyPart;
}

/** Where a namespace is served: the public base URL, its origin, and the namespace's path. */
export interface RegisterAt {
  base: URL;
  origin: string;
  path: string;
}
/** One labelled field of a platform's webhook settings, e.g. `['Port', '443']`. */
export type RegisterField = readonly [label: string, value: string];

/** A platform's part of the starter config and of the starter .env. */
export interface Starter {
  /** YAML of the `pilot` namespace's settings: a string goes on the `pilot:` line, lines go indented under it (comments welcome). */
  settings: string | readonly string[];
  /** Variables the settings name as `${VAR}`, each with a fresh random value and an optional comment line. */
  env?: readonly { name: string; value: () => string; comment?: string }[];
}

/** Typed identity helper for one route: the payload type of `normalise` is the type of its `schema`. */
export function defineRoute<S, P>(route: RouteSpec<S, P>): RouteSpec<S, P> {
  return route;
}

/** Typed identity helper for adapter modules. */
export function defineAdapter<S>(adapter: Adapter<S>): Adapter<S> {
  return adapter;
}
