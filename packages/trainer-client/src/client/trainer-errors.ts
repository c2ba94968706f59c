import { toErrorCodeNames } from '@differad/core';
import { createHttpErrorMapper } from '@differad/http-client';
import { TrainerErrorBodySchema } from '../api/common.js';
import { TRAINER_ERRORS } from '../api/trainer-errors.js';

/** The trainer API's codes by role (`TRAINER_CLIENT_ERROR_CODES.TIMEOUT`), drawn from TRAINER_ERRORS. */
export const TRAINER_CLIENT_ERROR_CODES = toErrorCodeNames(TRAINER_ERRORS, 'TRAINER_');

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
  errors: TRAINER_ERRORS,
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
