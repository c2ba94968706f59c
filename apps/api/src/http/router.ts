import type { IncomingMessage, ServerResponse } from 'node:http';
import type { z } from 'zod';

/** HTTP methods the API routes on. */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What a handler gets: the raw request/response, path parameters and the parsed URL. */
export interface RouteContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly params: Readonly<Record<string, string>>;
  readonly url: URL;
}

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

/** One route: `path` has `:name` segments, or ends in `/*` for everything under it. */
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
  handle(ctx: RouteContext): Promise<void> | void;
}

/** The outcome of matching a request against the routes. */
export type RouteMatch =
  | { readonly kind: 'found'; readonly route: Route; readonly params: Record<string, string> }
  | { readonly kind: 'method'; readonly allow: readonly string[]; readonly auth: boolean }
  | { readonly kind: 'none' };

function matchPath(pattern: string, pathname: string): Record<string, string> | null {
  if (pattern.endsWith('/*')) {
    const base = pattern.slice(0, -2);
    return pathname === base || pathname.startsWith(`${base}/`) ? {} : null;
  }
  const want = pattern.split('/');
  const got = pathname.split('/');
  if (want.length !== got.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    const w = want[i] ?? '';
    const g = got[i] ?? '';
    if (w.startsWith(':')) {
      if (g === '') return null;
      try {
        params[w.slice(1)] = decodeURIComponent(g);
      } catch {
        // Kept as sent: the route names it as a malformed parameter (400) instead of a missing route (404).
        params[w.slice(1)] = g;
      }
    } else if (w !== g) {
      return null;
    }
  }
  return params;
}

/**
 * Finds the route of `method pathname`: `found`, `method` when the path
 * exists for other methods only (405 with Allow), or `none` (404). HEAD is
 * served by the GET route.
 */
export function matchRoute(routes: readonly Route[], method: string, pathname: string): RouteMatch {
  const wanted = method === 'HEAD' ? 'GET' : method;
  const allow: string[] = [];
  let auth = false;
  for (const route of routes) {
    const params = matchPath(route.path, pathname);
    if (params === null) continue;
    if (route.method === wanted) return { kind: 'found', route, params };
    allow.push(route.method);
    auth ||= route.auth;
  }
  return allow.length > 0 ? { kind: 'method', allow, auth } : { kind: 'none' };
}
