import { randomBytes } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { ALREADY_SENT, type RunningServer, startServer } from '@differad/http-server';
import type { HttpBindings } from '@hono/node-server';
import { Hono } from 'hono';
import { type AuthMethod, type Authenticator, readCookie } from './auth/authenticate.js';
import { BOARD_CSRF_HEADER, createCsrfTokens, CSRF_HEADER, type CsrfTokens, SESSION_COOKIE } from './auth/csrf.js';
import { apiError, toErrorReply } from './errors/api-errors.js';
import { sendErrorJson } from './http/http-io.js';
import { checkJsonContentType, checkRequestSite, STATE_CHANGING_METHODS } from './http/request-guard.js';
import { matchRoute, type Route, type WriteKind } from './http/router.js';
import { createOpenApiDocument } from './openapi/openapi-document.js';
import type { ApiDeps } from './routes/api-deps.js';
import { createDashboardRoutes, type RequestListener } from './routes/dashboard-routes.js';
import { createJobRoutes } from './routes/job-routes.js';
import { checkQueryNames } from './routes/route-helpers.js';
import { createRunRoutes } from './routes/run-routes.js';
import { createSystemRoutes } from './routes/system-routes.js';

/** Options of {@link createApiServer}. */
export interface ApiServerOptions {
  readonly deps: ApiDeps;
  readonly auth: Authenticator;
  /** The dashboard session's CSRF tokens (`createCsrfTokens(token)`; default: keyed by a random secret of this server). */
  readonly csrf?: CsrfTokens;
  /** bull-board's request listener for `/dashboard/queues`, or null. */
  readonly queueBoard: RequestListener | null;
  /** True when Redis answers (for /health). */
  readonly pingRedis: () => Promise<boolean>;
  /** Unexpected (500) errors are reported here. */
  readonly log: (line: string) => void;
}

/** A listening API server. */
export interface ApiServer {
  /** The node server once listen() resolved (null before). */
  readonly server: Server | null;
  readonly routes: readonly Route[];
  /** Binds `host:port` (0 picks a free port) and resolves with the base URL. */
  listen(host: string, port: number): Promise<string>;
  /** Stops accepting, lets in-flight requests finish (open metric streams are cut after 1 s) and resolves once closed. */
  close(): Promise<void>;
}

/** All routes of the API, in match order. */
export function createRoutes(options: ApiServerOptions & { readonly csrf: CsrfTokens }): Route[] {
  const { deps } = options;
  const routes: Route[] = [
    ...createRunRoutes(deps),
    ...createJobRoutes(deps, deps.launchers),
    ...createDashboardRoutes(deps, options.auth, options.csrf, options.queueBoard),
  ];
  let document: Record<string, unknown> | null = null;
  // The document lists every route, the system routes included, so it is built lazily once they exist.
  routes.push(...createSystemRoutes(options.pingRedis, () => (document ??= createOpenApiDocument(routes))));
  return routes;
}

/**
 * What a state-changing request needs once authorized (docs/architecture.md §9):
 * JSON (415 otherwise), and with the cookie proof that the API's own page sent
 * it: its origin, and the session's CSRF token in a header that only a
 * same-origin script can set (another origin would need a CORS preflight, which
 * this API never grants).
 */
function checkWrite(kind: WriteKind, via: AuthMethod | null, req: IncomingMessage, csrf: CsrfTokens): void {
  if (kind === 'form') return;
  if (via === 'cookie') checkRequestSite(req.headers, true);
  checkJsonContentType(req.headers, kind === 'board');
  if (via !== 'cookie') return;
  const header = kind === 'board' ? BOARD_CSRF_HEADER : CSRF_HEADER;
  const presented = req.headers[header];
  if (!csrf.verify(readCookie(req.headers.cookie, SESSION_COOKIE), typeof presented === 'string' ? presented : null)) {
    throw apiError('API_CSRF_INVALID', `send the CSRF token of this dashboard session in ${header} (reload the page if you logged in again), or use the bearer token`, { header });
  }
}

async function dispatch(routes: readonly Route[], options: ApiServerOptions & { readonly csrf: CsrfTokens }, req: IncomingMessage, res: ServerResponse): Promise<void> {
  // Prefixing the origin (instead of passing a base) keeps `//host/x` a path, not a host.
  const url = new URL(`http://api${req.url ?? '/'}`);
  const method = req.method ?? 'GET';
  const match = matchRoute(routes, method, url.pathname);
  const via = options.auth.authorize(req);
  if (match.kind === 'none') {
    if (via === null) throw apiError('API_UNAUTHORIZED', 'send the API token: Authorization: Bearer <token>');
    throw apiError('API_NOT_FOUND', `no route ${url.pathname}`);
  }
  if (match.kind === 'method') {
    if (match.auth && via === null) throw apiError('API_UNAUTHORIZED', 'send the API token: Authorization: Bearer <token>');
    throw apiError('API_METHOD_NOT_ALLOWED', `${method} ${url.pathname}: use ${match.allow.join(' or ')}`, { allow: match.allow });
  }
  const { route, params } = match;
  const writes = STATE_CHANGING_METHODS.has(method);
  // Another origin changes nothing, whatever it holds: checked before the token, so it learns nothing either.
  if (writes) checkRequestSite(req.headers, false);
  if (route.auth && via === null) {
    if (route.page && (method === 'GET' || method === 'HEAD')) {
      res.writeHead(303, { location: `/login?next=${encodeURIComponent(url.pathname + url.search)}`, 'cache-control': 'no-store' }).end();
      return;
    }
    const presented = req.headers.authorization !== undefined || (req.headers.cookie ?? '').includes('differad_token=');
    throw apiError('API_UNAUTHORIZED', presented ? 'wrong API token' : 'send the API token: Authorization: Bearer <token>');
  }
  if (writes) checkWrite(route.writes ?? 'json', via, req, options.csrf);
  checkQueryNames(route, url);
  await route.handle({ req, res, params, url });
}

/**
 * The API's HTTP server: node:http with one router, bearer/cookie auth on
 * every route but /health and the login page, JSON-only and same-origin-only
 * state changes with a CSRF token for cookie sessions, and one error handler that
 * answers `{ error: { code, message, details } }` with the code's status.
 */
export function createApiServer(serverOptions: ApiServerOptions): ApiServer {
  const options = { ...serverOptions, csrf: serverOptions.csrf ?? createCsrfTokens(randomBytes(32).toString('base64url')) };
  const routes = createRoutes(options);
  const handle = (req: IncomingMessage, res: ServerResponse) =>
    dispatch(routes, options, req, res).catch((error: unknown) => {
      const { status, body } = toErrorReply(error);
      if (status >= 500) options.log(`${req.method} ${req.url}: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const headers: Record<string, string> = {};
      if (status === 401) headers['www-authenticate'] = 'Bearer realm="differad"';
      const allow = body.error.details.allow;
      if (status === 405 && Array.isArray(allow)) headers.allow = allow.join(', ');
      // An unread body (413, 401 before reading) must not be parsed as the next request on this connection.
      sendErrorJson(res, status, body, headers);
    });
  // The routes answer on the node response themselves (pages, streams, bull-board): the app hands them the socket pair.
  const app = new Hono<{ Bindings: HttpBindings }>().all('*', async (c) => {
    await handle(c.env.incoming, c.env.outgoing);
    return ALREADY_SENT;
  });
  let running: RunningServer | null = null;
  return {
    get server() {
      return running?.server ?? null;
    },
    routes,
    async listen(host, port) {
      if (running) throw new Error('the API server is already listening');
      running = await startServer(app, { host, port, closeGraceMs: 1000 });
      return running.url;
    },
    async close() {
      await running?.close();
    },
  };
}
