import { z } from 'zod';

/** The API version in every path (`/v1/...`) and in the health reply. */
export const TRAINER_API_VERSION = 'v1';

/** A run id: also used in file names, so a safe subset of characters. */
export const RunIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/)
  .describe('Run id: letters, digits, ".", "_" and "-", starting with a letter or digit.');

/** A training step number chosen by the orchestrator. */
export const StepSchema = z.number().int().min(0).max(2_147_483_647).describe('Training step number (the orchestrator numbers steps).');

/** A weight version: bumped by every applied optimizer step. */
export const WeightVersionSchema = z.number().int().min(0).max(2_147_483_647).describe('Weight version: bumped by every applied optim_step.');

/** One problem with a request field: `field` is the dotted path (`groups.0.completions.1.advantage`). */
export const FieldProblemSchema = z.strictObject({
  field: z.string().describe('Dotted path of the field, e.g. "groups.0.completions.1.advantage"; "" for the whole body.'),
  message: z.string(),
});

/**
 * The one error body of every non-2xx reply: `{ error: { code, message, details } }`.
 * A 400 lists the wrong fields in `details.fields`.
 */
export const TrainerErrorBodySchema = z
  .strictObject({
    error: z.strictObject({
      code: z.string().regex(/^[A-Z][A-Z0-9_]*$/).describe('SCREAMING_SNAKE error code, see TRAINER_ERROR_CODES.'),
      message: z.string(),
      details: z
        .looseObject({ fields: z.array(FieldProblemSchema).optional() })
        .optional()
        .describe('Machine-readable context; `fields` on 400.'),
    }),
  })
  .describe('Body of every non-2xx reply.');
export type TrainerErrorBody = z.infer<typeof TrainerErrorBodySchema>;

/**
 * The error codes a trainer answers with, and their HTTP status. Both backends
 * (the CPU trainer and the Python trainer) use exactly these.
 */
export const TRAINER_ERROR_CODES = {
  /** The body is not JSON or breaks the schema; `details.fields` names each wrong field. */
  TRAINER_REQUEST_INVALID: 400,
  /** The backend cannot do what was asked (e.g. `nccl` weight send on the CPU trainer). */
  TRAINER_BACKEND_UNSUPPORTED: 400,
  /** No such route. */
  TRAINER_NOT_FOUND: 404,
  /** The checkpoint file does not exist. */
  TRAINER_CHECKPOINT_NOT_FOUND: 404,
  /** The route exists, the method does not. */
  TRAINER_METHOD_NOT_ALLOWED: 405,
  /** The request names another run than the one this trainer is training. */
  TRAINER_RUN_MISMATCH: 409,
  /** Another step has micro-batches pending, or the micro-batch count changed within a step. */
  TRAINER_STEP_CONFLICT: 409,
  /** optim_step before every micro-batch of the step arrived; `details.missing` lists the indexes. */
  TRAINER_STEP_INCOMPLETE: 409,
  /** weights/send for a version the trainer does not hold. */
  TRAINER_VERSION_MISMATCH: 409,
  /** Images referenced by hash were never sent with bytes; `details.missing` lists the hashes. */
  TRAINER_IMAGE_UNKNOWN: 409,
  /** The body is larger than the trainer accepts. */
  TRAINER_BODY_TOO_LARGE: 413,
  /** The checkpoint file exists but cannot be read as one. */
  TRAINER_CHECKPOINT_INVALID: 422,
  /** The trainer's tokenization of the prompt differs from the server's and `prompt_mismatch` is `error`. */
  TRAINER_PROMPT_MISMATCH: 422,
  /** Anything else. */
  TRAINER_INTERNAL: 500,
} as const;
export type TrainerErrorCode = keyof typeof TRAINER_ERROR_CODES;
