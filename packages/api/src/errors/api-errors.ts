import { DifferadError, type ErrorSpec, isDifferadError, toErrorSpec, toErrorStatuses, toFieldProblems } from '@differad/core';
import { z } from 'zod';

/** An API error a reply carries, with its HTTP status. */
const replied = (status: number, summary: string) => ({ status, retryable: false, summary }) as const;
/** An API error no reply carries as such: one at start-up, or one the error handler answers as API_INTERNAL would (500, first line). */
const internal = (summary: string) => ({ status: null, retryable: false, summary }) as const;

/** The API's error codes, in the error registry: those a reply carries with their HTTP status, then the API's own failures. */
export const API_ERRORS = {
  API_REQUEST_INVALID: replied(400, 'The body or a query parameter broke its schema; `details.fields` lists `{ field, message }`.'),
  API_PATH_OUTSIDE_DATA_ROOTS: replied(400, 'A path in a job body resolves (symlinks followed) outside every data root; `details.field`.'),
  API_UNAUTHORIZED: replied(401, 'No token, or the wrong one (bearer header or the dashboard cookie).'),
  API_CROSS_ORIGIN: replied(
    403,
    'A state-changing request from another origin (another port of this host included), or a browser request that does not say where it comes from.',
  ),
  API_CSRF_INVALID: replied(
    403,
    "A state-changing request with the dashboard cookie but without the session's CSRF token in `X-CSRF-Token`.",
  ),
  API_NOT_FOUND: replied(404, 'No such route, run or job.'),
  API_METHOD_NOT_ALLOWED: replied(405, 'The route exists but not for this method; `details.allow`.'),
  API_CONFLICT: replied(409, 'The run or job exists already, or is not in a state that allows the request.'),
  API_BODY_TOO_LARGE: replied(413, 'The body is larger than the limit; `details.limit` in bytes.'),
  API_UNSUPPORTED_MEDIA_TYPE: replied(
    415,
    'A state-changing request whose body is not `application/json` (a missing Content-Type included).',
  ),
  API_JOB_START_FAILED: replied(
    422,
    "The job's process exited before it started (bad data, unreachable servers); `details.childCode` is its error code.",
  ),
  API_INTERNAL: replied(500, 'Anything unexpected; the message is logged, not leaked beyond its first line.'),
  API_TOKEN_INVALID: internal('The API token (DIFFERAD_API_TOKEN or the token file) is too short or has spaces; the API does not start.'),
  API_DATA_ROOT_INVALID: internal('The API was given no data root.'),
  API_JOB_STATE_INVALID: internal("A job's state read back from Redis is not JSON or breaks its schema."),
} as const satisfies Record<string, ErrorSpec>;

declare module '@differad/core' {
  interface DifferadErrorTables {
    readonly api: typeof API_ERRORS;
  }
}

/** The API's error codes a reply carries, and the HTTP status each one answers with (the OpenAPI document lists them). */
export const API_ERROR_CODES = toErrorStatuses(API_ERRORS);

/** One of {@link API_ERROR_CODES}. */
export type ApiErrorCode = keyof typeof API_ERROR_CODES;

/** The one error body of the API: `{ error: { code, message, details } }`. */
export const ApiErrorBodySchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.record(z.string(), z.unknown()),
  }),
});
/** The error body. */
export type ApiErrorBody = z.infer<typeof ApiErrorBodySchema>;

/** A DifferadError with one of the API's codes. */
export function apiError(code: ApiErrorCode, message: string, details: Record<string, unknown> = {}): DifferadError {
  return new DifferadError(code, message, { details });
}

/**
 * API_REQUEST_INVALID for a zod failure of `what`, naming every wrong field by
 * its path under `prefix` (e.g. `config.data.train`).
 */
export function toRequestInvalid(what: string, error: z.ZodError, prefix: readonly string[] = []): DifferadError {
  // An unknown key is named by its own path (`config.grpo.temprature`), not by the object that holds it.
  const problems = error.issues.flatMap((issue) =>
    issue.code === 'unrecognized_keys'
      ? issue.keys.map((key) => ({ field: [...issue.path.map(String), key].join('.'), message: 'unknown field' }))
      : toFieldProblems(new z.ZodError([issue])),
  );
  const fields = problems.map((p) => ({ field: [...prefix, ...(p.field === '' ? [] : [p.field])].join('.'), message: p.message }));
  const summary = fields.map((f) => `${f.field || '(body)'}: ${f.message}`).join('; ');
  return apiError('API_REQUEST_INVALID', `invalid ${what}: ${summary}`, { fields });
}

/** Any thrown value → status and error body; unknown failures are API_INTERNAL with the first line of their message. */
export function toErrorReply(error: unknown): { status: number; body: ApiErrorBody } {
  // A code with a status in API_ERRORS is the API's answer as it stands; any other failure is internal.
  const status = isDifferadError(error) ? toErrorSpec(API_ERRORS, error.code)?.status : null;
  if (isDifferadError(error) && typeof status === 'number') {
    return { status, body: { error: { code: error.code, message: error.message, details: { ...error.details } } } };
  }
  const text = error instanceof Error ? error.message : String(error);
  const code = isDifferadError(error) ? error.code : 'API_INTERNAL';
  return { status: 500, body: { error: { code, message: text.split('\n')[0] ?? 'internal error', details: {} } } };
}
