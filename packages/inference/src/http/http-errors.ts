import { DifferadError, isDifferadError } from '@differad/core';

/** The error codes of the inference adapter. */
export const INFERENCE_ERROR_CODES = {
  /** An attempt passed its deadline (or undici's connect/headers/body timeout). */
  TIMEOUT: 'INFERENCE_TIMEOUT',
  /** No healthy server, retries exhausted, or the connection failed. */
  UNAVAILABLE: 'INFERENCE_UNAVAILABLE',
  /** The body is not JSON or breaks the expected schema; `details.field` names the field. */
  BAD_RESPONSE: 'INFERENCE_BAD_RESPONSE',
  /** The server answered with an error status; `details.status` and `details.body`. */
  HTTP_ERROR: 'INFERENCE_HTTP_ERROR',
  /** This client could not build the request (a header or body it cannot send): our bug, not the server's; never retried. */
  REQUEST_INVALID: 'INFERENCE_REQUEST_INVALID',
} as const;

/** Where a failure happened. */
export interface ErrorContext {
  readonly server: string;
  readonly requestId: string;
}

const BODY_EXCERPT = 500;
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** The reason an attempt's own deadline aborts it with; recognised by {@link toTransportError}. */
export class DeadlineExceeded extends Error {
  constructor(readonly timeoutMs: number) {
    super(`deadline of ${timeoutMs} ms exceeded`);
    this.name = 'DeadlineExceeded';
  }
}

/** undici's code for an argument it refuses before sending (a header value it cannot put on the wire). */
const CLIENT_ARGUMENT_CODE = 'UND_ERR_INVALID_ARG';

/**
 * A request this client could not build or undici refused before sending it
 * → INFERENCE_REQUEST_INVALID, not retryable, and not the server's failure:
 * the fleet must not count it against the server's health.
 */
export function toRequestInvalidError(error: unknown, ctx: ErrorContext): DifferadError {
  const message = error instanceof Error ? error.message : String(error);
  return new DifferadError(INFERENCE_ERROR_CODES.REQUEST_INVALID, `${ctx.server}: could not send request ${ctx.requestId}: ${message}`, {
    cause: error,
    details: { ...ctx, clientSide: true },
  });
}

/**
 * Maps whatever undici or the network threw to a DifferadError: an argument
 * undici refused before sending → INFERENCE_REQUEST_INVALID; a deadline or
 * undici timeout → INFERENCE_TIMEOUT; a refused, reset or destroyed connection
 * (or anything else from the transport) → INFERENCE_UNAVAILABLE. Both are
 * retryable on another server.
 */
export function toTransportError(error: unknown, ctx: ErrorContext): DifferadError {
  if (isDifferadError(error)) return error;
  const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
  const message = error instanceof Error ? error.message : String(error);
  if (code === CLIENT_ARGUMENT_CODE) return toRequestInvalidError(error, ctx);
  const details = { ...ctx, ...(code ? { cause: code } : {}) };
  if (error instanceof DeadlineExceeded || (code !== undefined && TIMEOUT_CODES.has(code))) {
    return new DifferadError(INFERENCE_ERROR_CODES.TIMEOUT, `${ctx.server}: request ${ctx.requestId} timed out (${message})`, { cause: error, retryable: true, details });
  }
  return new DifferadError(INFERENCE_ERROR_CODES.UNAVAILABLE, `${ctx.server}: request ${ctx.requestId} failed: ${message}`, { cause: error, retryable: true, details });
}

/** The error message inside a vLLM/OpenAI error body, else the start of the body. */
function excerpt(body: string): string {
  try {
    const json = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown; detail?: unknown };
    const m = typeof json.error === 'object' ? json.error.message : (json.error ?? json.message ?? json.detail);
    if (typeof m === 'string') return m.slice(0, BODY_EXCERPT);
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.slice(0, BODY_EXCERPT);
}

/** An HTTP error status → INFERENCE_HTTP_ERROR; retryable for 408, 429 and 5xx. */
export function toHttpStatusError(status: number, body: string, ctx: ErrorContext): DifferadError {
  const text = excerpt(body);
  return new DifferadError(INFERENCE_ERROR_CODES.HTTP_ERROR, `${ctx.server}: HTTP ${status} for request ${ctx.requestId}: ${text}`, {
    retryable: status >= 500 || status === 408 || status === 429,
    details: { ...ctx, status, body: text },
  });
}

/** A body that breaks the contract → INFERENCE_BAD_RESPONSE naming the field; not retried (another server would answer alike). */
export function toBadResponseError(field: string, message: string, ctx: ErrorContext): DifferadError {
  return new DifferadError(INFERENCE_ERROR_CODES.BAD_RESPONSE, `${ctx.server}: bad response to request ${ctx.requestId}: ${field}: ${message}`, {
    details: { ...ctx, field },
  });
}

/** No server could take the request, or every attempt failed. */
export function toUnavailableError(message: string, ctx: { readonly requestId: string; readonly server?: string }, cause?: unknown): DifferadError {
  return new DifferadError(INFERENCE_ERROR_CODES.UNAVAILABLE, message, { cause, retryable: true, details: { server: ctx.server ?? null, requestId: ctx.requestId } });
}
