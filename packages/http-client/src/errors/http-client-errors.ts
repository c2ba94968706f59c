import { DifferadError, type ErrorCode, type ErrorTable, isDifferadError, toErrorSpec } from '@differad/core';

/** The codes one client throws, with its area prefix (`INFERENCE_TIMEOUT`, `TRAINER_TIMEOUT`). */
export interface HttpClientErrorCodes {
  /** The call passed its deadline, or undici's connect/headers/body timeout. Retryable as its table says. */
  readonly TIMEOUT: ErrorCode;
  /** The connection failed (refused, reset, closed midway). Retryable as its table says. */
  readonly UNAVAILABLE: ErrorCode;
  /** A 2xx body that is not JSON or breaks the schema; `details.field` names the field. Not retried. */
  readonly BAD_RESPONSE: ErrorCode;
  /** An error status; `details.status` and `details.body` (an excerpt). Retryable for 5xx, 408 and 429. */
  readonly HTTP_ERROR: ErrorCode;
  /** A request this client could not build or undici refused before sending: the caller's bug. Not retried. */
  readonly REQUEST_INVALID: ErrorCode;
}

/** A server's error body `{ error: { code, message, details } }`. */
export interface ServerErrorBody {
  readonly code: string;
  readonly message: string;
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * How a client tells a refusal (a 4xx other than 408/429) from an HTTP error:
 * the refusal carries the server's error body as `details.error` and is never
 * retried.
 */
export interface RejectionProfile {
  readonly code: ErrorCode;
  /** The server's error body, or undefined when the body is not one. */
  readonly parseBody: (json: unknown) => ServerErrorBody | undefined;
  /** `details.error.code` when the body is not an error body. */
  readonly unknownCode: string;
}

/** One client's error vocabulary: its codes and how a message names the call. */
export interface HttpErrorProfile<Ctx extends object> {
  readonly codes: HttpClientErrorCodes;
  /** The client's table in the error registry: whether a timeout or a failed connection is worth another try comes from it. */
  readonly errors: ErrorTable;
  /** The start of every message: `http://s:8000: request r1`, `POST http://t:8200/v1/optim_step`. */
  readonly where: (ctx: Ctx) => string;
  /** Without it every error status is `codes.HTTP_ERROR`. */
  readonly rejected?: RejectionProfile;
  /** `details.field` of a bad response about the whole body (default `''`; the inference adapter says `'(body)'`). */
  readonly bodyField?: string;
}

/** The one mapping of a client's failures to DifferadErrors; `details` holds the call's context. */
export interface HttpErrorMapper<Ctx extends object> {
  /** Whatever undici or the network threw (or a call's {@link DeadlineExceeded}) → TIMEOUT, UNAVAILABLE or REQUEST_INVALID. */
  transport(error: unknown, ctx: Ctx): DifferadError;
  /** A non-2xx reply → HTTP_ERROR (retryable for 5xx, 408, 429), or the profile's rejection for other 4xx. */
  status(status: number, body: string, ctx: Ctx): DifferadError;
  /** A 2xx body that breaks the contract → BAD_RESPONSE naming the field (`''` for the whole body). */
  badResponse(field: string, message: string, ctx: Ctx): DifferadError;
  /** A request that could not be built → REQUEST_INVALID, not retried; `details.clientSide` so no server is blamed. */
  requestInvalid(error: unknown, ctx: Ctx): DifferadError;
}

const BODY_EXCERPT = 500;
const TIMEOUT_CODES = new Set(['UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT']);
/** undici's code for an argument it refuses before sending (a header value it cannot put on the wire). */
const CLIENT_ARGUMENT_CODE = 'UND_ERR_INVALID_ARG';

/** The reason a call's own deadline aborts it with; recognised by {@link HttpErrorMapper.transport}. */
export class DeadlineExceeded extends Error {
  constructor(readonly timeoutMs: number) {
    super(`deadline of ${timeoutMs} ms exceeded`);
    this.name = 'DeadlineExceeded';
  }
}

const messageOf = (error: unknown) => (error instanceof Error ? error.message : String(error));
const isRetryableStatus = (status: number) => status >= 500 || status === 408 || status === 429;

/** The error message inside an error body (`{ error: { message } }`, OpenAI's and differad's; `{ error }`, `{ message }`, `{ detail }`), else the start of the body. */
export function toBodyExcerpt(body: string): string {
  try {
    const json = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown; detail?: unknown };
    const m = typeof json.error === 'object' && json.error !== null ? json.error.message : (json.error ?? json.message ?? json.detail);
    if (typeof m === 'string') return m.slice(0, BODY_EXCERPT);
  } catch {
    // not JSON: fall through to the raw text
  }
  return body.slice(0, BODY_EXCERPT);
}

function parseRejection(body: string, rejected: RejectionProfile): ServerErrorBody | undefined {
  try {
    return rejected.parseBody(JSON.parse(body));
  } catch {
    return undefined;
  }
}

/** Creates the error mapper of one client (see {@link HttpErrorMapper}). */
export function createHttpErrorMapper<Ctx extends object>(profile: HttpErrorProfile<Ctx>): HttpErrorMapper<Ctx> {
  const { codes, errors, where, rejected, bodyField = '' } = profile;
  const retryable = (code: ErrorCode) => toErrorSpec(errors, code)?.retryable ?? false;
  const requestInvalid = (error: unknown, ctx: Ctx) =>
    new DifferadError(codes.REQUEST_INVALID, `${where(ctx)}: could not be sent: ${messageOf(error)}`, {
      cause: error,
      details: { ...ctx, clientSide: true },
    });
  return {
    requestInvalid,
    transport(error, ctx) {
      if (isDifferadError(error)) return error;
      const code = typeof error === 'object' && error !== null && 'code' in error ? String((error as { code: unknown }).code) : undefined;
      if (code === CLIENT_ARGUMENT_CODE) return requestInvalid(error, ctx);
      const details = { ...ctx, ...(code ? { cause: code } : {}) };
      if (error instanceof DeadlineExceeded || (code !== undefined && TIMEOUT_CODES.has(code))) {
        return new DifferadError(codes.TIMEOUT, `${where(ctx)} timed out (${messageOf(error)})`, {
          cause: error,
          retryable: retryable(codes.TIMEOUT),
          details,
        });
      }
      return new DifferadError(codes.UNAVAILABLE, `${where(ctx)} failed: ${messageOf(error)}`, {
        cause: error,
        retryable: retryable(codes.UNAVAILABLE),
        details,
      });
    },
    status(status, body, ctx) {
      if (rejected && status >= 400 && status < 500 && !isRetryableStatus(status)) {
        const error = parseRejection(body, rejected) ?? { code: rejected.unknownCode, message: toBodyExcerpt(body) };
        return new DifferadError(
          rejected.code,
          `${where(ctx)} rejected (HTTP ${status} ${error.code}): ${error.message.slice(0, BODY_EXCERPT)}`,
          {
            details: { ...ctx, status, error },
          },
        );
      }
      const text = toBodyExcerpt(body);
      return new DifferadError(codes.HTTP_ERROR, `${where(ctx)}: HTTP ${status}: ${text}`, {
        retryable: isRetryableStatus(status),
        details: { ...ctx, status, body: text },
      });
    },
    badResponse(field, message, ctx) {
      return new DifferadError(codes.BAD_RESPONSE, `${where(ctx)}: bad response: ${field || '(body)'}: ${message}`, {
        details: { ...ctx, field: field || bodyField },
      });
    },
  };
}
