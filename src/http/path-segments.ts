/** A namespace name in a URL and in the config: letters, digits, `_` and `-`, at most 64. */
export const NAMESPACE_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * A request path's segments, percent-decoded, empty ones skipped (`//sensorlogger/x` is
 * `/sensorlogger/x`); a segment that does not decode is kept as it came.
 */
export function pathSegments(path: string): string[] {
  return path
    .split('/')
    .filter((s) => s.length > 0)
    .map((s) => {
      try {
        return decodeURIComponent(s);
      } catch {
        return s;
      }
    });
}
