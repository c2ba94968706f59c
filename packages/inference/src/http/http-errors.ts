import { DifferadError, type ErrorSpec, toErrorCodeNames } from '@differad/core';
import { createHttpErrorMapper } from '@differad/http-client';

/** The error codes of the inference adapter: its one table in the error registry. */
export const INFERENCE_ERRORS = {
  INFERENCE_TIMEOUT: {
    status: null,
    retryable: true,
    summary: "An attempt passed its deadline (or undici's connect, headers or body timeout).",
  },
  INFERENCE_UNAVAILABLE: { status: null, retryable: true, summary: 'No healthy server, retries exhausted, or the connection failed.' },
  INFERENCE_BAD_RESPONSE: {
    status: null,
    retryable: false,
    summary: 'A reply body is not JSON or breaks the expected schema; `details.field` names the field (another server would answer alike).',
  },
  INFERENCE_HTTP_ERROR: {
    status: null,
    // Retryable for 5xx, 408 and 429 only; the mapper decides from the status.
    retryable: true,
    summary: 'The server answered with an error status; `details.status` and `details.body`.',
  },
  INFERENCE_REQUEST_INVALID: {
    status: null,
    retryable: false,
    summary: "This client could not build the request (a header or body it cannot send): our bug, not the server's.",
  },
  INFERENCE_CONFIG_INVALID: {
    status: null,
    retryable: false,
    summary: 'Fleet options break their schema, or name servers not in the fleet.',
  },
} as const satisfies Record<string, ErrorSpec>;

declare module '@differad/core' {
  interface DifferadErrorTables {
    readonly inference: typeof INFERENCE_ERRORS;
  }
}

/** The adapter's codes by role (`INFERENCE_ERROR_CODES.TIMEOUT`), drawn from {@link INFERENCE_ERRORS}. */
export const INFERENCE_ERROR_CODES = toErrorCodeNames(INFERENCE_ERRORS, 'INFERENCE_');

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
  errors: INFERENCE_ERRORS,
  where: (ctx) => `${ctx.server}: request ${ctx.requestId}`,
  bodyField: '(body)',
});

/** A body that breaks the contract → INFERENCE_BAD_RESPONSE naming the field; not retried (another server would answer alike). */
export const toBadResponseError = inferenceErrors.badResponse;

/** No server could take the request, or every attempt failed. */
export function toUnavailableError(
  message: string,
  ctx: { readonly requestId: string; readonly server?: string },
  cause?: unknown,
): DifferadError {
  return new DifferadError(INFERENCE_ERROR_CODES.UNAVAILABLE, message, {
    cause,
    retryable: INFERENCE_ERRORS.INFERENCE_UNAVAILABLE.retryable,
    details: { server: ctx.server ?? null, requestId: ctx.requestId },
  });
}
