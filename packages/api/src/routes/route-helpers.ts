import { RunIdSchema } from '@differad/queue';
import type { z } from 'zod';
import { apiError, toRequestInvalid } from '../errors/api-errors.js';
import { replyJson, validBody } from '../http/http-io.js';
import { type ApiContext, type ApiHandler, toRequestUrl } from '../http/router.js';

/**
 * A route's handlers with a JSON body: {@link validBody} (the package's
 * jsonBody: 413, 400 naming every wrong field), then `handle` with the
 * validated body and the JSON as sent.
 */
export function withJsonBody<S extends z.ZodType>(
  schema: S,
  what: string,
  limit: number,
  handle: (c: ApiContext, body: z.infer<S>, json: unknown) => Promise<Response>,
): ApiHandler[] {
  // validBody sets `body` (the schema's output) and `json` before the handler runs.
  const read = validBody(schema, what, limit) as unknown as ApiHandler;
  const vars = (c: ApiContext) => c.var as unknown as { body: z.infer<S>; json: unknown };
  return [read, async (c) => handle(c, vars(c).body, vars(c).json)];
}

/** Validates the query string with a strict schema: 400 names the parameter. */
export function readValidQuery<S extends z.ZodType>(c: ApiContext, schema: S): z.infer<S> {
  const parsed = schema.safeParse(Object.fromEntries(toRequestUrl(c).searchParams));
  if (!parsed.success) throw toRequestInvalid('query', parsed.error);
  return parsed.data;
}

/** The `:id` parameter when it is a well-formed id; 400 naming `id` otherwise (404 is left for an id that could exist). */
export function readIdParam(c: ApiContext, what: string): string {
  const id = c.req.param('id') ?? '';
  const parsed = RunIdSchema.safeParse(id);
  if (!parsed.success) {
    const message = parsed.error.issues[0]?.message ?? 'malformed id';
    throw apiError('API_REQUEST_INVALID', `invalid ${what} id ${JSON.stringify(id.slice(0, 100))}: ${message}`, {
      fields: [{ field: 'id', message }],
    });
  }
  return id;
}

/** 201 with a Location header. */
export function replyCreated(c: ApiContext, location: string, body: unknown): Response {
  return replyJson(c, 201, body, { location });
}

/** The raw value at `path` of a JSON value, or undefined (to tell a field the client sent from a default). */
export function rawAt(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || Array.isArray(current)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}
