import type { ErrorCode } from './error-registry.js';

/**
 * The one error class of the project. Expected outcomes (an unparsable answer,
 * a degenerate group) are values; this is for failures. `code` is a
 * registered {@link ErrorCode} (SCREAMING_SNAKE with an area prefix), so a
 * typo does not compile and, once an error has crossed a process or Redis
 * boundary as data, callers can still branch on it.
 */
export class DifferadError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, options: { cause?: unknown; retryable?: boolean; details?: Record<string, unknown> } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DifferadError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = Object.freeze({ ...(options.details ?? {}) });
  }
}

/** True when `value` is a DifferadError, optionally with the given code. */
export function isDifferadError(value: unknown, code?: ErrorCode): value is DifferadError {
  return value instanceof DifferadError && (code === undefined || value.code === code);
}
