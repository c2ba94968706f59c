import type { ServerResponse } from 'node:http';
import { RunIdSchema } from '@differad/queue';
import type { z } from 'zod';
import { apiError, toRequestInvalid } from '../errors/api-errors.js';
import { readJsonBody, sendJson } from '../http/http-io.js';
import type { RouteContext } from '../http/router.js';

/** Reads the JSON body and validates it: 400 names every wrong field (e.g. `config.grpo.groupSize`). */
export async function readValidBody<S extends z.ZodType>(ctx: RouteContext, schema: S, what: string, limit: number): Promise<{ raw: unknown; body: z.infer<S> }> {
  const raw = await readJsonBody(ctx.req, limit);
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw toRequestInvalid(what, parsed.error);
  return { raw, body: parsed.data };
}

/** Validates the query string with a strict schema: 400 names the parameter. */
export function readValidQuery<S extends z.ZodType>(ctx: RouteContext, schema: S): z.infer<S> {
  const parsed = schema.safeParse(Object.fromEntries(ctx.url.searchParams));
  if (!parsed.success) throw toRequestInvalid('query', parsed.error);
  return parsed.data;
}

/** The `:id` parameter when it is a well-formed id; 404 otherwise (an id that cannot exist is simply not found). */
export function readIdParam(ctx: RouteContext, what: string): string {
  const id = ctx.params.id ?? '';
  if (!RunIdSchema.safeParse(id).success) throw apiError('API_NOT_FOUND', `no ${what} ${JSON.stringify(id)}`, { id });
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
