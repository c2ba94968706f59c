import { DifferadError, toFieldProblems, type FieldProblem } from '@differad/core';
import type { z } from 'zod';

/** The error codes of the queue adapter. */
export const QUEUE_ERROR_CODES = {
  /** A job payload broke its zod schema; `details.field` names the first bad field. Not retryable. */
  PAYLOAD_INVALID: 'QUEUE_PAYLOAD_INVALID',
  /** A deployment namespace for queue names is not kebab-case. Not retryable. */
  NAMESPACE_INVALID: 'QUEUE_NAMESPACE_INVALID',
  /** A Redis URL is not `redis://` / `rediss://` or has a bad port or database. Not retryable. */
  REDIS_URL_INVALID: 'QUEUE_REDIS_URL_INVALID',
  /** Redis did not answer PING within the deadline; `details.url` (password redacted). Retryable. */
  REDIS_UNREACHABLE: 'QUEUE_REDIS_UNREACHABLE',
  /** The `redis-server` binary for the embedded default is not installed. Not retryable. */
  REDIS_MISSING: 'QUEUE_REDIS_MISSING',
  /** The embedded `redis-server` exited or stayed silent before it was ready. */
  REDIS_START_FAILED: 'QUEUE_REDIS_START_FAILED',
  /** The run store has no run with this id; `details.runId`. Not retryable. */
  RUN_NOT_FOUND: 'QUEUE_RUN_NOT_FOUND',
  /** A run-state value read back from Redis broke its schema; `details.key` names the key. */
  RUN_STATE_INVALID: 'QUEUE_RUN_STATE_INVALID',
} as const;

/** The message a zod failure becomes: the first problem's field and message, then how many more. */
function toProblemSummary(problems: readonly FieldProblem[]): string {
  const [first, ...rest] = problems;
  if (first === undefined) return 'invalid value';
  const head = `${first.field === '' ? '(root)' : first.field}: ${first.message}`;
  return rest.length === 0 ? head : `${head} (and ${rest.length} more)`;
}

/**
 * A payload that broke its schema → QUEUE_PAYLOAD_INVALID naming the field
 * (`details.field`, `details.problems`). Never retryable: the same bytes fail
 * the same way on every attempt.
 */
export function toPayloadError(queue: string, error: z.ZodError, fieldPrefix = ''): DifferadError {
  const problems = toFieldProblems(error).map((p) => ({
    field: fieldPrefix === '' ? p.field : p.field === '' ? fieldPrefix : `${fieldPrefix}.${p.field}`,
    message: p.message,
  }));
  return new DifferadError(QUEUE_ERROR_CODES.PAYLOAD_INVALID, `${queue} payload invalid: ${toProblemSummary(problems)}`, {
    cause: error,
    details: { queue, field: problems[0]?.field ?? fieldPrefix, problems },
  });
}

/** A run-state value that broke its schema (written by an older version, or by hand). */
export function toRunStateError(key: string, error: z.ZodError): DifferadError {
  const problems = toFieldProblems(error);
  return new DifferadError(QUEUE_ERROR_CODES.RUN_STATE_INVALID, `run state ${key} is invalid: ${toProblemSummary(problems)}`, {
    cause: error,
    details: { key, field: problems[0]?.field ?? '', problems },
  });
}
