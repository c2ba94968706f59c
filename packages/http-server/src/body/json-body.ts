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

/**
 * Reads the body (within the limit), parses it as JSON and validates it with
 * `schema`; the handler reads the result with `c.get('body')`. A failure is
 * thrown, so the server's one error handler answers it.
 */
export function jsonBody<S extends z.ZodType>(schema: S, options: JsonBodyOptions): MiddlewareHandler<{ Variables: { body: z.infer<S> } }> {
  return createMiddleware<{ Variables: { body: z.infer<S> } }>(async (c, next) => {
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
    await next();
  });
}
