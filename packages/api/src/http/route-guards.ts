import { readCookie } from '../auth/authenticate.js';
import { BOARD_CSRF_HEADER, CSRF_HEADER, type CsrfTokens, SESSION_COOKIE } from '../auth/csrf.js';
import { apiError } from '../errors/api-errors.js';
import { redirect } from './http-io.js';
import { checkJsonContentType, checkRequestSite, STATE_CHANGING_METHODS } from './request-guard.js';
import { type ApiHandler, type Route, type RouteDoc, toRequestUrl, unauthorized, type WriteKind } from './router.js';

/** Another origin changes nothing, whatever it holds: checked before the token, so it learns nothing either. */
const sameOriginOnly: ApiHandler = async (c, next) => {
  checkRequestSite(c.req.header(), false);
  await next();
};

/** 401 without the token; a page sends a browser (GET or HEAD) to the login form instead, to come back after it. */
function requireToken(page: boolean): ApiHandler {
  return async (c, next) => {
    if (c.get('auth') !== null) return next();
    if (page && (c.req.method === 'GET' || c.req.method === 'HEAD')) {
      const url = toRequestUrl(c);
      return redirect(c, `/login?next=${encodeURIComponent(url.pathname + url.search)}`, { 'cache-control': 'no-store' });
    }
    throw unauthorized(c);
  };
}

/**
 * What a state-changing request needs once authorized (docs/architecture.md §9):
 * JSON (415 otherwise), and with the cookie proof that the API's own page sent
 * it: its origin, and the session's CSRF token in a header that only a
 * same-origin script can set (another origin would need a CORS preflight, which
 * this API never grants).
 */
function checkWrite(kind: WriteKind, csrf: CsrfTokens): ApiHandler {
  const header = kind === 'board' ? BOARD_CSRF_HEADER : CSRF_HEADER;
  return async (c, next) => {
    const headers = c.req.header();
    const cookie = c.get('auth') === 'cookie';
    if (cookie) checkRequestSite(headers, true);
    checkJsonContentType(headers, kind === 'board');
    if (cookie && !csrf.verify(readCookie(headers.cookie, SESSION_COOKIE), headers[header] ?? null)) {
      throw apiError(
        'API_CSRF_INVALID',
        `send the CSRF token of this dashboard session in ${header} (reload the page if you logged in again), or use the bearer token`,
        { header },
      );
    }
    await next();
  };
}

/**
 * A REST route (one with a doc) takes only the query parameters it documents,
 * each once: 400 names an unknown or repeated one (a typo is not silently ignored,
 * and `?fromStep=1&fromStep=2` has no single meaning). Pages take any.
 */
function documentedQueryOnly(doc: RouteDoc): ApiHandler {
  const allowed = new Set(Object.keys(doc.query ?? {}));
  return async (c, next) => {
    const params = toRequestUrl(c).searchParams;
    const fields: { field: string; message: string }[] = [];
    for (const name of new Set(params.keys())) {
      if (!allowed.has(name))
        fields.push({
          field: name,
          message:
            allowed.size === 0 ? 'this route takes no query parameters' : `unknown query parameter (known: ${[...allowed].join(', ')})`,
        });
      else if (params.getAll(name).length > 1) fields.push({ field: name, message: 'given more than once' });
    }
    if (fields.length > 0)
      throw apiError('API_REQUEST_INVALID', `invalid query: ${fields.map((f) => `${f.field}: ${f.message}`).join('; ')}`, { fields });
    await next();
  };
}

/**
 * The guards of a route, in the order the API checks them: the origin of a
 * state change, the token, what a state change must carry (JSON, the CSRF
 * token of a cookie session), the query parameter names.
 */
export function createRouteGuards(csrf: CsrfTokens): (route: Route) => ApiHandler[] {
  return (route) => {
    const writes = STATE_CHANGING_METHODS.has(route.method);
    const kind = route.writes ?? 'json';
    return [
      ...(writes ? [sameOriginOnly] : []),
      ...(route.auth ? [requireToken(route.page ?? false)] : []),
      ...(writes && kind !== 'form' ? [checkWrite(kind, csrf)] : []),
      ...(route.doc ? [documentedQueryOnly(route.doc)] : []),
    ];
  };
}
