/** A request exactly as a platform would send it (signed with the namespace's configured secret). */
export interface SampleRequest {
  method: string;
  /** Path after the base URL, e.g. `/sensorlogger/pilot`. */
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  /** What the request is when the route alone does not say (e.g. 'study.status.change', 'validation handshake'). */
  label?: string;
}

/** What one sample is asked for (`studyhook sample <platform> --route R --event E --status S --body FILE`). */
export interface SampleOptions<S = Record<string, unknown>> {
  /** A name from {@link PlatformSample.routes}. */
  route: string;
  namespace: string;
  /** The namespace's settings: the secret, passcode, token or code it is signed with. */
  settings: S;
  /** A name from {@link PlatformSample.events} (default: the first). */
  event?: string;
  /** The status the event reports, where the platform has one (Prolific: APPROVED, AWAITING REVIEW, ...). */
  status?: string;
  /** These bytes as the body instead of the built one, still signed as the platform signs. */
  body?: Buffer;
}

/**
 * Realistic requests for one platform, signed exactly as the platform signs: `studyhook sample`
 * sends them, and the bench and the tests build their requests with them (one signer per platform).
 */
export interface PlatformSample<S = Record<string, unknown>> {
  /** Route names ('' for the base URL); the first is the default. */
  routes: readonly string[];
  /** Kinds of call the platform sends to its routes (Prolific's event types); the first is the default. */
  events?: readonly string[];
  build(opts: SampleOptions<S>): SampleRequest;
  /**
   * `req` with the credentials the platform would send for its body as it now is (a signature over
   * the body, Basic or Bearer credentials), from `settings`; a signing timestamp already in `req` is kept.
   */
  sign?(req: SampleRequest, settings: S): SampleRequest;
}

/** `/<platform>/<namespace>[/<route>]` */
export function samplePath(platform: string, namespace: string, route: string): string {
  return `/${platform}/${encodeURIComponent(namespace)}${route ? `/${route}` : ''}`;
}

export function jsonBody(value: unknown): { body: Buffer; headers: Record<string, string> } {
  return {
    body: Buffer.from(JSON.stringify(value)),
    headers: { 'content-type': 'application/json' },
  };
}

/** `Basic base64(user:password)` */
export function basicAuth(user: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
}
