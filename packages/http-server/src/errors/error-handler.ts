import { ServerResponse } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { DEFAULT_DRAIN_LIMITS, type DrainLimits, sendAndDrain } from '../body/request-body.js';

/**
 * What a handler returns when it answered (or cut) the node response itself,
 * e.g. a fault that destroys the socket: @hono/node-server then writes nothing.
 */
export const ALREADY_SENT: Response = RESPONSE_ALREADY_SENT;

/** What a failure is answered with. */
export interface ErrorReply {
  readonly status: number;
  /** Serialized as JSON. */
  readonly body: unknown;
  readonly headers?: Readonly<Record<string, string>>;
}

/** Options of {@link createErrorHandler}. */
export interface ErrorHandlerOptions {
  /** Maps any thrown value to its reply: the server's error codes and their statuses. */
  toReply(error: unknown): ErrorReply;
  /** Called with every error reply (logging, counters). */
  onError?(error: unknown, reply: ErrorReply, c: Context): void;
  /** Content-Type of the error body (default `application/json`). */
  readonly contentType?: string;
  /** Headers every error reply carries besides the reply's own. */
  readonly headers?: Readonly<Record<string, string>>;
  /** How long an unread request body is drained after the reply (default DEFAULT_DRAIN_LIMITS). */
  readonly drain?: DrainLimits;
}

/** The node response behind a Hono context served by @hono/node-server, or null (e.g. under `app.request()`). */
function toOutgoing(c: Context): ServerResponse | null {
  const env = c.env as { outgoing?: unknown } | undefined;
  return env?.outgoing instanceof ServerResponse ? env.outgoing : null;
}

/**
 * Sends a whole reply that may go out before the request body has all
 * arrived (a 413, a 401 before reading): on a node socket it goes through
 * {@link sendAndDrain} (Connection: close, the rest of the body drained, so
 * the client reads it); elsewhere it is a plain Response.
 */
export function sendWhole(
  c: Context,
  status: number,
  headers: Readonly<Record<string, string>>,
  body: string,
  drain: DrainLimits = DEFAULT_DRAIN_LIMITS,
): Response {
  const outgoing = toOutgoing(c);
  if (outgoing) {
    // A streamed reply that failed half-way cannot be turned into an error reply: cut it.
    if (outgoing.headersSent) {
      outgoing.destroy();
      return RESPONSE_ALREADY_SENT;
    }
    sendAndDrain(outgoing, status, headers, body, drain);
    return RESPONSE_ALREADY_SENT;
  }
  return c.body(body, status as ContentfulStatusCode, headers);
}

/**
 * The one error handler of every server (`app.onError(...)`, and for a
 * missing route `app.notFound((c) => handler(error, c))`): the server's
 * mapping picks status and body, the body goes out as JSON with
 * {@link sendWhole}, so an unread request body never resets the connection
 * before the client reads the reply.
 */
export function createErrorHandler(options: ErrorHandlerOptions): (error: unknown, c: Context) => Response {
  const contentType = options.contentType ?? 'application/json';
  return (error, c) => {
    const reply = options.toReply(error);
    options.onError?.(error, reply, c);
    return sendWhole(
      c,
      reply.status,
      { ...options.headers, 'content-type': contentType, ...reply.headers },
      JSON.stringify(reply.body),
      options.drain,
    );
  };
}
