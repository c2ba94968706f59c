import { DifferadError, type ErrorSpec, toErrorCodeNames, toFieldProblems, type FieldProblem } from '@differad/core';
import type { z } from 'zod';

/** The error codes of the queue adapter: its one table in the error registry. */
export const QUEUE_ERRORS = {
  QUEUE_PAYLOAD_INVALID: {
    status: null,
    retryable: false,
    summary: 'A job payload broke its zod schema; `details.field` names the first bad field (the same bytes fail alike on every attempt).',
  },
  QUEUE_NAMESPACE_INVALID: { status: null, retryable: false, summary: 'A deployment namespace for queue names is not kebab-case.' },
  QUEUE_REDIS_URL_INVALID: {
    status: null,
    retryable: false,
    summary:
      'A Redis URL is not `redis://` / `rediss://` / `unix:///path` or has a bad port, database or socket path (relative, too long, with a host, or credentials outside its query).',
  },
  QUEUE_REDIS_UNREACHABLE: {
    status: null,
    retryable: true,
    summary: 'Redis did not answer PING within the deadline; `details.url` (password redacted).',
  },
  QUEUE_REDIS_MISSING: { status: null, retryable: false, summary: 'The `redis-server` binary for the embedded default is not installed.' },
  QUEUE_REDIS_START_FAILED: {
    status: null,
    retryable: false,
    summary: 'The embedded `redis-server` exited or stayed silent before it was ready, or found no free port.',
  },
  QUEUE_RUN_NOT_FOUND: { status: null, retryable: false, summary: 'The run store has no run with this id; `details.runId`.' },
  QUEUE_RUN_STATE_INVALID: {
    status: null,
    retryable: false,
    summary: 'A run-state value read back from Redis is not JSON or broke its schema; `details.key` names the key.',
  },
} as const satisfies Record<string, ErrorSpec>;

declare module '@differad/core' {
  interface DifferadErrorTables {
    readonly queue: typeof QUEUE_ERRORS;
  }
}

/** The adapter's codes by the rest of their name (`QUEUE_ERROR_CODES.RUN_NOT_FOUND`), drawn from {@link QUEUE_ERRORS}. */
export const QUEUE_ERROR_CODES = toErrorCodeNames(QUEUE_ERRORS, 'QUEUE_');

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
