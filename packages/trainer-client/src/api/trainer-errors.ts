import type { ErrorSpec } from '@differad/core';

/** A code a trainer answers with (both backends, the CPU trainer and the Python trainer): `{ error: { code } }` with `status`. */
const replied = (status: number, summary: string) => ({ status, retryable: status >= 500, summary }) as const;
/** A code only the client throws; no trainer answers with it. */
const thrown = (retryable: boolean, summary: string) => ({ status: null, retryable, summary }) as const;

/**
 * The trainer API's error codes, in the error registry: first those a trainer
 * answers with and their HTTP status (the wire contract the OpenAPI document
 * lists), then those the client throws on its side.
 */
export const TRAINER_ERRORS = {
  TRAINER_REQUEST_INVALID: replied(
    400,
    'The body is not JSON or breaks the schema (or the client could not send it); `details.fields` names each wrong field.',
  ),
  TRAINER_BACKEND_UNSUPPORTED: replied(400, 'The backend cannot do what was asked (e.g. `nccl` weight send on the CPU trainer).'),
  TRAINER_NOT_FOUND: replied(404, 'No such route.'),
  TRAINER_CHECKPOINT_NOT_FOUND: replied(404, 'The checkpoint file does not exist.'),
  TRAINER_METHOD_NOT_ALLOWED: replied(405, 'The route exists, the method does not.'),
  TRAINER_RUN_MISMATCH: replied(409, 'The request names another run than the one this trainer is training.'),
  TRAINER_STEP_CONFLICT: replied(409, 'Another step has micro-batches pending, or the micro-batch count changed within a step.'),
  TRAINER_STEP_INCOMPLETE: replied(409, 'optim_step before every micro-batch of the step arrived; `details.missing` lists the indexes.'),
  TRAINER_VERSION_MISMATCH: replied(409, 'weights/send or a weights manifest for a version the trainer does not hold.'),
  TRAINER_IMAGE_UNKNOWN: replied(409, 'Images referenced by hash were never sent with bytes; `details.missing` lists the hashes.'),
  TRAINER_BODY_TOO_LARGE: replied(413, 'The body is larger than the trainer accepts.'),
  TRAINER_CHECKPOINT_INVALID: replied(422, 'The checkpoint file exists but cannot be read as one.'),
  TRAINER_PROMPT_MISMATCH: replied(
    422,
    "The trainer's tokenization of the prompt differs from the server's and `prompt_mismatch` is `error`.",
  ),
  TRAINER_INTERNAL: replied(500, 'Anything else that failed in the trainer.'),
  TRAINER_UNAVAILABLE: thrown(true, 'The connection to the trainer failed (refused, reset, closed midway).'),
  TRAINER_TIMEOUT: thrown(true, 'A trainer call passed its deadline; the API is idempotent, so it can be sent again.'),
  TRAINER_BAD_RESPONSE: thrown(false, 'A 2xx body that is not JSON or breaks the schema; `details.field` names the field.'),
  TRAINER_HTTP_ERROR: thrown(
    // Retryable for 5xx, 408 and 429, which is what reaches this code; the mapper decides from the status.
    true,
    'The trainer answered 5xx, 408, 429 or another non-4xx failure status; `details.status` and `details.body` (an excerpt).',
  ),
  TRAINER_REJECTED: thrown(
    false,
    'The trainer refused the request (a 4xx); `details.error` is its error body `{ code, message, details }`.',
  ),
} as const satisfies Record<string, ErrorSpec>;

declare module '@differad/core' {
  interface DifferadErrorTables {
    readonly 'trainer-client': typeof TRAINER_ERRORS;
  }
}
