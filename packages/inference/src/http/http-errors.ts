import { DifferadError } from '@differad/core';
import { createHttpErrorMapper } from '@differad/http-client';

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

/**
 * The adapter's one mapping of failures (@differad/http-client's, with the
 * INFERENCE_ codes): a deadline or undici timeout → INFERENCE_TIMEOUT and
 * anything else from the transport → INFERENCE_UNAVAILABLE, both retryable on
 * another server; an error status → INFERENCE_HTTP_ERROR quoting vLLM's error
 * message (retryable for 5xx, 408, 429); what undici refused before sending →
 * INFERENCE_REQUEST_INVALID with `details.clientSide`, which the fleet does
 * not count against the server's health.
 */
export const inferenceErrors = createHttpErrorMapper<ErrorContext>({
  codes: INFERENCE_ERROR_CODES,
  where: (ctx) => `${ctx.server}: request ${ctx.requestId}`,
  bodyField: '(body)',
});

/** A body that breaks the contract → INFERENCE_BAD_RESPONSE naming the field; not retried (another server would answer alike). */
export const toBadResponseError = inferenceErrors.badResponse;

/** No server could take the request, or every attempt failed. */
export function toUnavailableError(message: string, ctx: { readonly requestId: string; readonly server?: string }, cause?: unknown): DifferadError {
  return new DifferadError(INFERENCE_ERROR_CODES.UNAVAILABLE, message, { cause, retryable: true, details: { server: ctx.server ?? null, requestId: ctx.requestId } });
}
