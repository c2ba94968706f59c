import { DifferadError, isDifferadError, toFieldProblems } from '@differad/core';
import { z } from 'zod';

/** The API's error codes and the HTTP status each one answers with. */
export const API_ERROR_CODES = {
  /** The body or a query parameter broke its schema; `details.fields` lists `{ field, message }`. */
  API_REQUEST_INVALID: 400,
  /** A path in a job body resolves (symlinks followed) outside every data root; `details.field`. */
  API_PATH_OUTSIDE_DATA_ROOTS: 400,
  /** No token, or the wrong one (bearer header or the dashboard cookie). */
  API_UNAUTHORIZED: 401,
  /** A state-changing request from another origin (another port of this host included), or a browser request that does not say where it comes from. */
  API_CROSS_ORIGIN: 403,
  /** A state-changing request with the dashboard cookie but without the session's CSRF token in `X-CSRF-Token`. */
  API_CSRF_INVALID: 403,
  /** No such route, run or job. */
  API_NOT_FOUND: 404,
  /** The route exists but not for this method; `details.allow`. */
  API_METHOD_NOT_ALLOWED: 405,
  /** The run or job exists already, or is not in a state that allows the request. */
  API_CONFLICT: 409,
  /** The body is larger than the limit; `details.limit` in bytes. */
  API_BODY_TOO_LARGE: 413,
  /** A state-changing request whose body is not `application/json` (a missing Content-Type included). */
  API_UNSUPPORTED_MEDIA_TYPE: 415,
  /** The job's process exited before it started (bad data, unreachable servers); `details.childCode` is its error code. */
  API_JOB_START_FAILED: 422,
  /** Anything unexpected; the message is logged, not leaked beyond its first line. */
  API_INTERNAL: 500,
} as const;

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
  if (isDifferadError(error) && error.code in API_ERROR_CODES) {
    const status = API_ERROR_CODES[error.code as ApiErrorCode];
    return { status, body: { error: { code: error.code, message: error.message, details: { ...error.details } } } };
  }
  const text = error instanceof Error ? error.message : String(error);
  const code = isDifferadError(error) ? error.code : 'API_INTERNAL';
  return { status: 500, body: { error: { code, message: text.split('\n')[0] ?? 'internal error', details: {} } } };
}
