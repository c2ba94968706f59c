/**
 * `http://h:8000/v1/` → `http://h:8000`: the origin and path without trailing
 * slashes or a final `/v1` (every route names its own version). A URL that is
 * not http(s) is a TypeError naming `what` (`server URL must be http(s): …`).
 */
export function normalizeBaseUrl(url: string, what: string): string {
  const u = new URL(url);
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new TypeError(`${what} URL must be http(s): ${url}`);
  return `${u.origin}${u.pathname.replace(/\/+$/, '').replace(/\/v1$/, '')}`;
}
