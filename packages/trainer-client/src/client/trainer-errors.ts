import { DifferadError, isDifferadError } from '@differad/core';
import type { z } from 'zod';
import { TrainerErrorBodySchema } from '../api/common.js';

/** The error codes the trainer client throws. */
export const TRAINER_CLIENT_ERROR_CODES = {
  /** The connection failed (refused, reset, closed midway). Retryable. */
  UNAVAILABLE: 'TRAINER_UNAVAILABLE',
  /** The call passed its deadline. Retryable: the API is idempotent. */
  TIMEOUT: 'TRAINER_TIMEOUT',
  /** A 2xx body that is not JSON or breaks the schema; `details.field` names the field. */
  BAD_RESPONSE: 'TRAINER_BAD_RESPONSE',
  /** 5xx, 408, 429 or another non-4xx failure status; `details.status` and `details.body` (an excerpt). */
  HTTP_ERROR: 'TRAINER_HTTP_ERROR',
  /** A 4xx: the trainer refused the request; `details.error` is its error body `{ code, message, details }`. */
  REJECTED: 'TRAINER_REJECTED',
  /** The request breaks the schema before it is sent; `details.fields` names the fields. */
  REQUEST_INVALID: 'TRAINER_REQUEST_INVALID',
} as const;

/** Where a failure happened. */
export interface TrainerCallContext {
  readonly url: string;
  readonly method: string;
  readonly path: string;
}

const BODY_EXCERPT = 500;
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);

/** The reason a call's own deadline aborts it with; recognised by {@link toTrainerTransportError}. */
export class TrainerDeadlineExceeded extends Error {
  constructor(readonly timeoutMs: number) {
    super(`deadline of ${timeoutMs} ms exceeded`);
    this.name = 'TrainerDeadlineExceeded';
  }
}

const where = (ctx: TrainerCallContext) => `${ctx.method} ${ctx.url}${ctx.path}`;

/**
 * Whatever undici or the network threw → TRAINER_TIMEOUT (the deadline or an
 * undici timeout) or TRAINER_UNAVAILABLE (anything else from the transport).
 */
export function toTrainerTransportError(error: unknown, ctx: TrainerCallContext): DifferadError {
  if (isDifferadError(error)) return error;
  const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
  const message = error instanceof Error ? error.message : String(error);
  const details = { ...ctx, ...(code ? { cause: code } : {}) };
  if (error instanceof TrainerDeadlineExceeded || (code !== undefined && TIMEOUT_CODES.has(code))) {
    return new DifferadError(TRAINER_CLIENT_ERROR_CODES.TIMEOUT, `${where(ctx)} timed out (${message})`, { cause: error, retryable: true, details });
  }
  return new DifferadError(TRAINER_CLIENT_ERROR_CODES.UNAVAILABLE, `${where(ctx)} failed: ${message}`, { cause: error, retryable: true, details });
}

/**
 * A non-2xx reply → TRAINER_REJECTED for a 4xx other than 408/429 (with the
 * trainer's error body, never retried), TRAINER_HTTP_ERROR otherwise
 * (retryable for 5xx, 408 and 429).
 */
export function toTrainerStatusError(status: number, body: string, ctx: TrainerCallContext): DifferadError {
  let parsed: z.infer<typeof TrainerErrorBodySchema> | undefined;
  try {
    const result = TrainerErrorBodySchema.safeParse(JSON.parse(body));
    if (result.success) parsed = result.data;
  } catch {
    // not JSON: quote the raw text
  }
  const excerpt = parsed ? parsed.error.message.slice(0, BODY_EXCERPT) : body.slice(0, BODY_EXCERPT);
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
    const error = parsed?.error ?? { code: 'TRAINER_UNKNOWN', message: excerpt };
    return new DifferadError(TRAINER_CLIENT_ERROR_CODES.REJECTED, `${where(ctx)} rejected (HTTP ${status} ${error.code}): ${error.message.slice(0, BODY_EXCERPT)}`, {
      details: { ...ctx, status, error },
    });
  }
  return new DifferadError(TRAINER_CLIENT_ERROR_CODES.HTTP_ERROR, `${where(ctx)}: HTTP ${status}: ${excerpt}`, {
    retryable: status >= 500 || status === 408 || status === 429,
    details: { ...ctx, status, body: excerpt },
  });
}

/** A 2xx body that breaks the contract → TRAINER_BAD_RESPONSE naming the field; not retried. */
export function toTrainerBadResponse(field: string, message: string, ctx: TrainerCallContext): DifferadError {
  return new DifferadError(TRAINER_CLIENT_ERROR_CODES.BAD_RESPONSE, `${where(ctx)}: bad response: ${field || '(body)'}: ${message}`, {
    details: { ...ctx, field },
  });
}
