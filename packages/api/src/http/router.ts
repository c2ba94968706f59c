import type { Context, Hono, MiddlewareHandler } from 'hono';
import type { z } from 'zod';
import type { AuthMethod } from '../auth/authenticate.js';
import { apiError } from '../errors/api-errors.js';

/** HTTP methods the API routes on (HEAD is served by the GET route). */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What the API's middleware hands on: how the request proved it holds the token (null: it did not). */
export interface ApiEnv {
  Variables: { auth: AuthMethod | null };
}

/** The API's Hono context. */
export type ApiContext = Context<ApiEnv>;

/** A middleware of an API route (checks, then awaits `next`) or its handler (answers). */
export type ApiHandler = MiddlewareHandler<ApiEnv>;

/** A named zod schema: the OpenAPI component it becomes. */
export interface NamedSchema {
  readonly name: string;
  readonly schema: z.ZodType;
}

/** How a route appears in the OpenAPI document (omitted: the route is not part of the REST API, e.g. a page). */
export interface RouteDoc {
  readonly operationId: string;
  readonly summary: string;
  readonly tag: string;
  readonly body?: NamedSchema;
  /** The 2xx response: a schema for JSON, or a media type for other content. */
  readonly response: NamedSchema | { readonly contentType: string; readonly description: string };
  readonly status?: number;
  /** Error statuses besides 401 and 500 (which every authenticated route has). */
  readonly errors?: readonly number[];
  /** Query parameters (all optional). */
  readonly query?: Readonly<Record<string, string>>;
}

/**
 * What a state-changing route (POST, PUT, PATCH, DELETE) accepts besides
 * coming from the API's own origin:
 * - `json` (the default): `Content-Type: application/json`, and with the
 *   dashboard cookie the session's CSRF token in `X-CSRF-Token`;
 * - `form`: an HTML form of the API's own pages that needs no token (login,
 *   logout), so there is no session to forge a request in;
 * - `board`: bull-board's prebuilt UI, which cannot be taught our header:
 *   the CSRF token in `X-XSRF-Token` (axios echoes the `XSRF-TOKEN` cookie),
 *   JSON whenever there is a body.
 */
export type WriteKind = 'json' | 'form' | 'board';

/**
 * One route of the API's one table, which the Hono app registers and the
 * OpenAPI document is generated from: `path` in Hono's syntax (`:name`
 * segments, or `/*` at the end for a mount and everything under it).
 */
export interface Route {
  readonly method: HttpMethod;
  readonly path: string;
  /** False only for /health and the login page. */
  readonly auth: boolean;
  /** For state-changing methods: see {@link WriteKind} (default `json`). */
  readonly writes?: WriteKind;
  /** A browser page: without a token the browser is sent to /login instead of getting a 401 body. */
  readonly page?: boolean;
  readonly doc?: RouteDoc;
  /** Run after the API's guards (token, origin, CSRF, query names): a body reader, then the handler that answers. */
  readonly handlers: readonly ApiHandler[];
}

/**
 * The request URL as sent. Hono's `c.req.path` has percent-escapes decoded;
 * messages and the login redirect keep the path the client wrote.
 */
export function toRequestUrl(c: Context): URL {
  return new URL(c.req.url);
}

/** 401 with a message that says whether a token was sent at all. */
export function unauthorized(c: Context): Error {
  const presented = c.req.header('authorization') !== undefined || (c.req.header('cookie') ?? '').includes('differad_token=');
  return apiError('API_UNAUTHORIZED', presented ? 'wrong API token' : 'send the API token: Authorization: Bearer <token>');
}

const NO_TOKEN = 'send the API token: Authorization: Bearer <token>';

/** The last handler of a path: the path exists, but not for this method (401 first when the path needs the token). */
function methodNotAllowed(allow: readonly string[], auth: boolean): ApiHandler {
  return async (c) => {
    if (auth && c.get('auth') === null) throw apiError('API_UNAUTHORIZED', NO_TOKEN);
    throw apiError('API_METHOD_NOT_ALLOWED', `${c.req.method} ${toRequestUrl(c).pathname}: use ${allow.join(' or ')}`, { allow });
  };
}

/** For a request no route matches: 401 without a token (nothing is told about what exists), 404 with one. */
export function toNotFound(c: Context<ApiEnv>): Error {
  if (c.get('auth') === null) return apiError('API_UNAUTHORIZED', NO_TOKEN);
  return apiError('API_NOT_FOUND', `no route ${toRequestUrl(c).pathname}`);
}

/**
 * Registers every route on `app` in table order, each behind the guards
 * `guardsOf` gives it, and after them, per path, a handler that answers any
 * other method with 405 and the `Allow` header.
 */
export function registerRoutes(app: Hono<ApiEnv>, routes: readonly Route[], guardsOf: (route: Route) => readonly ApiHandler[]): void {
  const paths = new Map<string, { allow: HttpMethod[]; auth: boolean }>();
  for (const route of routes) {
    const [first, ...rest] = [...guardsOf(route), ...route.handlers];
    if (first === undefined) throw new Error(`${route.method} ${route.path} has no handler`);
    app.on(route.method, route.path, first, ...rest);
    const path = paths.get(route.path) ?? { allow: [], auth: false };
    path.allow.push(route.method);
    path.auth ||= route.auth;
    paths.set(route.path, path);
  }
  for (const [path, { allow, auth }] of paths) app.all(path, methodNotAllowed(allow, auth));
}
