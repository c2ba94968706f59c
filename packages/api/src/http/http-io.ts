import { type BodyLimit, jsonBody, type JsonBodyVariables } from '@differad/http-server';
import type { Context, MiddlewareHandler } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import type { z } from 'zod';
import { apiError, toRequestInvalid } from '../errors/api-errors.js';

/** Default request body limit: 1 MiB (a training config is a few KiB). */
export const DEFAULT_BODY_LIMIT_BYTES = 1024 * 1024;

/** The media type of every JSON reply, errors included. */
export const JSON_TYPE = 'application/json; charset=utf-8';
/** The media type of the API's pages. */
export const HTML_TYPE = 'text/html; charset=utf-8';

/** Headers every response carries: no sniffing, no framing, no referrer, nothing from other origins. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** Response headers; a list is sent as one header line per value (Set-Cookie). */
export type ReplyHeaders = Readonly<Record<string, string | string[]>>;

/** `limit` bytes of body: API_BODY_TOO_LARGE (413) as soon as the declared length or the bytes read pass it. */
export function toBodyLimit(limit: number): BodyLimit {
  return {
    maxBytes: limit,
    tooLarge: (declared) =>
      declared === null
        ? apiError('API_BODY_TOO_LARGE', `the body is larger than the limit of ${limit} bytes`, { limit })
        : apiError('API_BODY_TOO_LARGE', `the body is ${declared} bytes; the limit is ${limit}`, { limit }),
  };
}

/**
 * The JSON body validated with `schema` (what the route's OpenAPI entry
 * documents): 413 past `limit`, 400 naming the body when it is not JSON and
 * every wrong field otherwise (e.g. `config.grpo.groupSize`). An empty body is
 * `undefined`. The Content-Type (415) was checked before, with the origin.
 */
export function validBody<S extends z.ZodType>(
  schema: S,
  what: string,
  limit: number,
): MiddlewareHandler<{ Variables: JsonBodyVariables<z.infer<S>> }> {
  return jsonBody(schema, {
    limit: toBodyLimit(limit),
    empty: undefined,
    invalid: (problem) =>
      problem.kind === 'not-json'
        ? apiError('API_REQUEST_INVALID', `the body is not JSON: ${problem.message}`, { fields: [{ field: '', message: 'not JSON' }] })
        : toRequestInvalid(what, problem.error),
  });
}

/** A whole reply of `contentType` with the security headers. */
export function reply(
  c: Context,
  status: number,
  contentType: string,
  body: string | Uint8Array<ArrayBuffer>,
  headers: ReplyHeaders = {},
): Response {
  return c.body(body, status as ContentfulStatusCode, { ...SECURITY_HEADERS, 'content-type': contentType, ...headers });
}

/** `body` as JSON. */
export function replyJson(c: Context, status: number, body: unknown, headers: ReplyHeaders = {}): Response {
  return reply(c, status, JSON_TYPE, JSON.stringify(body), headers);
}

/** A 303 to `location` (after a login, a logout, or a page that needs the token). */
export function redirect(c: Context, location: string, headers: ReplyHeaders = {}): Response {
  return c.body(null, 303, { location, ...headers });
}
