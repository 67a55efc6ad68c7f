/**
 * An `allowedOrigins` entry as a browser sends it in `Origin` (scheme, lower-case host, port only
 * when not the default), or what is wrong with it. `*` stays `*`.
 *
 * why: Labvanced's docs print `https://www.labvanced.com/` with a trailing slash; a real Origin never
 * has one, so an entry copied from there refused every browser without a word (issue #22, item 10).
 * A trailing slash, upper case and a default port are therefore normalised away; a path, query,
 * fragment or credentials mean the entry is not an origin at all, and the config is refused.
 */
export function normaliseOrigin(entry: string): { origin: string } | { problem: string } {
  if (entry === '*') return { origin: '*' };
  let url: URL;
  try {
    url = new URL(entry.trim());
  } catch {
    return {
      problem: `'${entry}' is not an origin: write its scheme and host, e.g. https://www.labvanced.com`,
    };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    return { problem: `'${entry}' is not an http(s) origin` };
  if (url.pathname !== '/' || url.search !== '' || url.hash !== '' || /[?#]/.test(entry)) {
    return {
      problem: `'${entry}' has a path: an origin is only scheme, host and port (did you mean ${url.origin}?)`,
    };
  }
  if (url.username !== '' || url.password !== '')
    return {
      problem: `'${entry}' carries credentials: an origin is only scheme, host and port (${url.origin})`,
    };
  return { origin: url.origin };
}
