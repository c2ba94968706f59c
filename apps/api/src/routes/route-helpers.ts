import type { ServerResponse } from 'node:http';
import { RunIdSchema } from '@differad/queue';
import type { z } from 'zod';
import { apiError, toRequestInvalid } from '../errors/api-errors.js';
import { readJsonBody, sendJson } from '../http/http-io.js';
import type { Route, RouteContext } from '../http/router.js';

/** Reads the JSON body and validates it: 400 names every wrong field (e.g. `config.grpo.groupSize`). */
export async function readValidBody<S extends z.ZodType>(ctx: RouteContext, schema: S, what: string, limit: number): Promise<{ raw: unknown; body: z.infer<S> }> {
  const raw = await readJsonBody(ctx.req, limit);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw toRequestInvalid(what, parsed.error);
  return { raw, body: parsed.data };
}

/**
 * A REST route (one with a doc) takes only the query parameters it documents,
 * each once: 400 names an unknown or repeated one (a typo is not silently ignored,
 * and `?fromStep=1&fromStep=2` has no single meaning). Pages take any.
 */
export function checkQueryNames(route: Route, url: URL): void {
  if (route.doc === undefined) return;
  const allowed = new Set(Object.keys(route.doc.query ?? {}));
  const fields: { field: string; message: string }[] = [];
  for (const name of new Set(url.searchParams.keys())) {
    if (!allowed.has(name)) fields.push({ field: name, message: allowed.size === 0 ? 'this route takes no query parameters' : `unknown query parameter (known: ${[...allowed].join(', ')})` });
    else if (url.searchParams.getAll(name).length > 1) fields.push({ field: name, message: 'given more than once' });
  }
  if (fields.length > 0) throw apiError('API_REQUEST_INVALID', `invalid query: ${fields.map((f) => `${f.field}: ${f.message}`).join('; ')}`, { fields });
}

/** Validates the query string with a strict schema: 400 names the parameter. */
export function readValidQuery<S extends z.ZodType>(ctx: RouteContext, schema: S): z.infer<S> {
  const parsed = schema.safeParse(Object.fromEntries(ctx.url.searchParams));
  if (!parsed.success) throw toRequestInvalid('query', parsed.error);
  return parsed.data;
}

/** The `:id` parameter when it is a well-formed id; 400 naming `id` otherwise (404 is left for an id that could exist). */
export function readIdParam(ctx: RouteContext, what: string): string {
  const id = ctx.params.id ?? '';
  const parsed = RunIdSchema.safeParse(id);
  if (!parsed.success) {
    const message = parsed.error.issues[0]?.message ?? 'malformed id';
    throw apiError('API_REQUEST_INVALID', `invalid ${what} id ${JSON.stringify(id.slice(0, 100))}: ${message}`, { fields: [{ field: 'id', message }] });
  }
  return id;
}

/** 201 with a Location header. */
export function sendCreated(res: ServerResponse, location: string, body: unknown): void {
  sendJson(res, 201, body, { location });
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
