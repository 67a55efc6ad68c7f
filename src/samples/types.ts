/** A request exactly as a platform would send it (signed with the namespace's configured secret). */
export interface SampleRequest {
  method: string;
  /** Path after the base URL, e.g. `/sensorlogger/pilot`. */
  path: string;
  headers: Record<string, string>;
  body: Buffer;
}

/** Builds realistic sample requests for one platform's routes. */
export interface SampleBuilder {
  platform: string;
  /** Route names ('' for the base URL); the first is the default. */
  routes: readonly string[];
  build(route: string, namespace: string, settings: Record<string, unknown>): SampleRequest;
}

/** `/<platform>/<namespace>[/<route>]` */
export function samplePath(platform: string, namespace: string, route: string): string {
  return `/${platform}/${encodeURIComponent(namespace)}${route ? `/${route}` : ''}`;
}

export function jsonBody(value: unknown): { body: Buffer; headers: Record<string, string> } {
  return { body: Buffer.from(JSON.stringify(value)), headers: { 'content-type': 'application/json' } };
}
