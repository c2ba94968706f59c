import type { Context, MiddlewareHandler } from 'hono';
import { createMiddleware } from 'hono/factory';
import type { z } from 'zod';
import { readBodyText } from './read-body.js';
import type { BodyLimit } from './request-body.js';

/** Why a body was refused before its handler ran. */
export type BodyProblem =
  | { readonly kind: 'not-json'; readonly message: string }
  | { readonly kind: 'invalid'; readonly error: z.ZodError };

/** Options of {@link jsonBody}. */
export interface JsonBodyOptions {
  /** The body limit (413 past it, through the server's error handler). */
  readonly limit: BodyLimit;
  /** The error to throw for a body that is not JSON or breaks the schema (the server's 400). */
  invalid(problem: BodyProblem, c: Context): Error;
  /** What an empty body parses as (default: refused as not JSON). */
  readonly empty?: unknown;
}

/** What {@link jsonBody} hands its handler. */
export interface JsonBodyVariables<T> {
  /** The validated body (the schema's output, defaults filled in). */
  readonly body: T;
  /** The JSON as the client sent it, to tell a field it sent from a default. */
  readonly json?: unknown;
}

/**
 * Reads the body (within the limit), parses it as JSON and validates it with
 * `schema`; the handler reads the result with `c.get('body')` (and the JSON as
 * sent with `c.get('json')`). A failure is thrown, so the server's one error
 * handler answers it.
 */
export function jsonBody<S extends z.ZodType>(
  schema: S,
  options: JsonBodyOptions,
): MiddlewareHandler<{ Variables: JsonBodyVariables<z.infer<S>> }> {
  return createMiddleware<{ Variables: JsonBodyVariables<z.infer<S>> }>(async (c, next) => {
    const text = await readBodyText(c, options.limit);
    let json: unknown;
    if (text.trim() === '' && 'empty' in options) {
      json = options.empty;
    } else {
      try {
        json = JSON.parse(text);
      } catch (cause) {
        throw options.invalid({ kind: 'not-json', message: (cause as Error).message }, c);
      }
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw options.invalid({ kind: 'invalid', error: parsed.error }, c);
    c.set('body', parsed.data);
    c.set('json', json);
    await next();
  });
}
