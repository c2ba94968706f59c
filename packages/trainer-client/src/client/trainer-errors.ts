import { createHttpErrorMapper } from '@differad/http-client';
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
  /** The request breaks the schema (or cannot be sent) before it is sent; `details.fields` names the fields. */
  REQUEST_INVALID: 'TRAINER_REQUEST_INVALID',
} as const;

/** Where a failure happened. */
export interface TrainerCallContext {
  readonly url: string;
  readonly method: string;
  readonly path: string;
}

/**
 * The client's one mapping of failures (@differad/http-client's, with the
 * TRAINER_ codes): the deadline or an undici timeout → TRAINER_TIMEOUT,
 * anything else from the transport → TRAINER_UNAVAILABLE (both retryable);
 * a 4xx other than 408/429 → TRAINER_REJECTED with the trainer's error body,
 * never retried; other statuses → TRAINER_HTTP_ERROR (retryable for 5xx,
 * 408 and 429); a 2xx body that breaks the contract → TRAINER_BAD_RESPONSE.
 */
export const trainerErrors = createHttpErrorMapper<TrainerCallContext>({
  codes: TRAINER_CLIENT_ERROR_CODES,
  where: (ctx) => `${ctx.method} ${ctx.url}${ctx.path}`,
  rejected: {
    code: TRAINER_CLIENT_ERROR_CODES.REJECTED,
    unknownCode: 'TRAINER_UNKNOWN',
    parseBody: (json) => {
      const parsed = TrainerErrorBodySchema.safeParse(json);
      return parsed.success ? parsed.data.error : undefined;
    },
  },
});
