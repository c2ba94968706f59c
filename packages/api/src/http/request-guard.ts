import type { RequestHeaders } from '../auth/authenticate.js';
import { apiError } from '../errors/api-errors.js';

/** Methods that change something: each needs JSON and, from a browser, the API's own origin. */
export const STATE_CHANGING_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Where a request says it comes from, relative to the API's own origin. */
export type RequestSite = 'same-origin' | 'cross-origin' | 'unknown';

/**
 * Reads `Origin` and `Sec-Fetch-Site`. Any other origin is `cross-origin`,
 * another port of this host included: it is the same *site*, so SameSite
 * cookies travel with its requests. `Sec-Fetch-Site: same-site` is therefore
 * cross-origin too, and so is an opaque (`null`) origin. A request with
 * neither header (curl, scripts, old browsers) is `unknown`. The API's own
 * origin is the one its Host header names (http or https: a proxy may
 * terminate TLS).
 */
export function toRequestSite(headers: RequestHeaders): RequestSite {
  const fetchSite = headers['sec-fetch-site'];
  if (fetchSite !== undefined && fetchSite !== 'same-origin') return 'cross-origin';
  const origin = headers.origin;
  if (origin !== undefined) {
    let parsed: URL;
    try {
      parsed = new URL(origin);
    } catch {
      return 'cross-origin';
    }
    const ownHost = headers.host;
    const sameHost =
      ownHost !== undefined && parsed.host === ownHost.toLowerCase() && parsed.origin === origin.toLowerCase().replace(/\/$/, '');
    return sameHost && (parsed.protocol === 'http:' || parsed.protocol === 'https:') ? 'same-origin' : 'cross-origin';
  }
  return fetchSite === 'same-origin' ? 'same-origin' : 'unknown';
}

/** API_CROSS_ORIGIN (403) unless the request may come from where it says; `requireProof` refuses `unknown` too (cookie sessions). */
export function checkRequestSite(headers: RequestHeaders, requireProof: boolean): void {
  const site = toRequestSite(headers);
  if (site === 'cross-origin') {
    throw apiError(
      'API_CROSS_ORIGIN',
      `a request from another origin (${headers.origin ?? `Sec-Fetch-Site: ${headers['sec-fetch-site']}`}) cannot change anything here`,
      { origin: headers.origin ?? null },
    );
  }
  if (site === 'unknown' && requireProof) {
    throw apiError(
      'API_CROSS_ORIGIN',
      'a browser request that changes something must say where it comes from (Origin or Sec-Fetch-Site); scripts use the bearer token',
      { origin: null },
    );
  }
}

/** True when the request carries a body (a length above 0, or a chunked one). */
export function hasRequestBody(headers: RequestHeaders): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = Number(headers['content-length'] ?? '0');
  return !Number.isFinite(length) || length > 0;
}

/** The media type of Content-Type, lower-case without parameters, or null when absent. */
export function toMediaType(headers: RequestHeaders): string | null {
  const value = headers['content-type'];
  if (value === undefined) return null;
  return value.split(';')[0]?.trim().toLowerCase() ?? '';
}

/**
 * API_UNSUPPORTED_MEDIA_TYPE (415) unless the request is `application/json`.
 * A missing Content-Type is refused as well: a browser sends one with every
 * form, so only a cross-origin `fetch` of a typeless Blob lacks it, and that
 * must not be read as JSON. `allowNoBody` admits a request with no body and no
 * type (bull-board's bodyless PUTs).
 */
export function checkJsonContentType(headers: RequestHeaders, allowNoBody = false): void {
  const type = toMediaType(headers);
  if (type === 'application/json') return;
  if (type === null && allowNoBody && !hasRequestBody(headers)) return;
  throw apiError(
    'API_UNSUPPORTED_MEDIA_TYPE',
    `send Content-Type: application/json${type === null ? ' (none was sent)' : `, not ${type}`}`,
    { contentType: type },
  );
}
