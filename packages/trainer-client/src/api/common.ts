import { toErrorStatuses } from '@differad/core';
import { z } from 'zod';
import { TRAINER_ERRORS } from './trainer-errors.js';

/** The API version in every path (`/v1/...`) and in the health reply. */
export const TRAINER_API_VERSION = 'v1';

/** The characters of a run id (RunIdSchema; also the client's hand check). */
export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** A run id: also used in file names, so a safe subset of characters. */
export const RunIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(RUN_ID_PATTERN)
  .describe('Run id: letters, digits, ".", "_" and "-", starting with a letter or digit.');

/** A training step number chosen by the orchestrator. */
export const StepSchema = z.number().int().min(0).max(2_147_483_647).describe('Training step number (the orchestrator numbers steps).');

/** A weight version: bumped by every applied optimizer step. */
export const WeightVersionSchema = z
  .number()
  .int()
  .min(0)
  .max(2_147_483_647)
  .describe('Weight version: bumped by every applied optim_step.');

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
      code: z
        .string()
        .regex(/^[A-Z][A-Z0-9_]*$/)
        .describe('SCREAMING_SNAKE error code, see TRAINER_ERROR_CODES.'),
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
 * The error codes a trainer answers with, and their HTTP status: the codes of
 * TRAINER_ERRORS that have one. Both backends (the CPU trainer and the Python
 * trainer) use exactly these.
 */
export const TRAINER_ERROR_CODES = toErrorStatuses(TRAINER_ERRORS);
export type TrainerErrorCode = keyof typeof TRAINER_ERROR_CODES;
