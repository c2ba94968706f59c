import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { createErrorHandler, type RunningServer, startServer } from '@differad/http-server';
import { type Logger, toErrorFields } from '@differad/log';
import { Hono } from 'hono';
import type { Authenticator } from './auth/authenticate.js';
import { createCsrfTokens, type CsrfTokens } from './auth/csrf.js';
import { toErrorReply } from './errors/api-errors.js';
import { JSON_TYPE, SECURITY_HEADERS } from './http/http-io.js';
import { createRequestLog } from './http/request-log.js';
import { createRouteGuards } from './http/route-guards.js';
import { type ApiEnv, registerRoutes, type Route, toNotFound, toRequestUrl } from './http/router.js';
import { createOpenApiDocument } from './openapi/openapi-document.js';
import type { ApiDeps } from './routes/api-deps.js';
import { createDashboardRoutes, type FetchHandler } from './routes/dashboard-routes.js';
import { createJobRoutes } from './routes/job-routes.js';
import { createRunRoutes } from './routes/run-routes.js';
import { createSystemRoutes } from './routes/system-routes.js';

/** How long close() lets open requests finish before it cuts them: a metric stream never finishes by itself. */
export const API_CLOSE_GRACE_MS = 1000;

/** Options of {@link createApiApp} and {@link createApiServer}. */
export interface ApiServerOptions {
  readonly deps: ApiDeps;
  readonly auth: Authenticator;
  /** The dashboard session's CSRF tokens (`createCsrfTokens(token)`; default: keyed by a random secret of this server). */
  readonly csrf?: CsrfTokens;
  /** bull-board's app for `/dashboard/queues` (its fetch handler), or null. */
  readonly queueBoard: FetchHandler | null;
  /** True when Redis answers (for /health). */
  readonly pingRedis: () => Promise<boolean>;
  /** One line per request (method, path, status, duration_ms); unexpected (500) errors with their code and stack. */
  readonly logger: Logger;
}

/** The API's Hono app and the route table it was built from. */
export interface ApiApp {
  readonly app: Hono<ApiEnv>;
  readonly routes: readonly Route[];
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
 * The API as a Hono app: every route of the table registered with its method
 * and path behind its guards (bearer or cookie token on every route but
 * /health and the login page; same-origin-only, JSON-only state changes with a
 * CSRF token for cookie sessions; documented query names only), 405 with
 * `Allow` for another method of a known path, and one error handler that
 * answers `{ error: { code, message, details } }` with the code's status.
 * `app.request()` serves it without a socket.
 */
export function createApiApp(serverOptions: ApiServerOptions): ApiApp {
  const options = { ...serverOptions, csrf: serverOptions.csrf ?? createCsrfTokens(randomBytes(32).toString('base64url')) };
  const routes = createRoutes(options);
  const app = new Hono<ApiEnv>();
  const onError = createErrorHandler({
    toReply(error) {
      const { status, body } = toErrorReply(error);
      const allow = body.error.details.allow;
      const headers = {
        ...(status === 401 ? { 'www-authenticate': 'Bearer realm="differad"' } : {}),
        ...(status === 405 && Array.isArray(allow) ? { allow: allow.join(', ') } : {}),
      };
      return { status, body, headers };
    },
    onError(error, reply, c) {
      if (reply.status < 500) return;
      const url = toRequestUrl(c);
      options.logger.error(
        { method: c.req.method, path: url.pathname, ...toErrorFields(error) },
        `${c.req.method} ${url.pathname}: ${error instanceof Error ? error.message : String(error)}`,
      );
    },
    contentType: JSON_TYPE,
    headers: SECURITY_HEADERS,
  });
  app.onError(onError);
  app.notFound((c) => onError(toNotFound(c), c));
  app.use('*', createRequestLog(options.logger));
  app.use('*', async (c, next) => {
    c.set('auth', options.auth.authorize(c.req.header()));
    await next();
  });
  registerRoutes(app, routes, createRouteGuards(options.csrf));
  return { app, routes };
}

/** The API app on the lifecycle package's server (graceful close; open metric streams are cut after 1 s). */
export function createApiServer(options: ApiServerOptions): ApiServer {
  const { app, routes } = createApiApp(options);
  let running: RunningServer | null = null;
  return {
    get server() {
      return running?.server ?? null;
    },
    routes,
    async listen(host, port) {
      if (running) throw new Error('the API server is already listening');
      running = await startServer(app, { host, port, closeGraceMs: API_CLOSE_GRACE_MS });
      return running.url;
    },
    async close() {
      await running?.close();
    },
  };
}
