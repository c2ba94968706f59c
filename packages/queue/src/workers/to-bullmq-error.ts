import { isDifferadError } from '@differad/core';
import { UnrecoverableError } from 'bullmq';

/**
 * Maps what a processor threw to what BullMQ should see (STYLE "Errors"): a
 * non-retryable DifferadError becomes `UnrecoverableError`, so BullMQ fails the
 * job at once instead of spending its attempts; a retryable one stays a plain
 * error and is retried with the queue's backoff. Either way the message starts
 * with the code (`CODE: message`) because only the message crosses Redis, as
 * the job's `failedReason`; read it back with {@link parseFailedReason}.
 * Anything else is passed through unchanged (and retried).
 */
export function toBullmqError(error: unknown): unknown {
  if (!isDifferadError(error)) return error;
  const message = `${error.code}: ${error.message}`;
  if (!error.retryable) return new UnrecoverableError(message);
  const mapped = new Error(message, { cause: error });
  mapped.name = 'DifferadError';
  return mapped;
}

/** A job's `failedReason`, split back into the DifferadError code (null when there was none) and the message. */
export interface FailedReason {
  readonly code: string | null;
  readonly message: string;
}

const CODED = /^([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+): ([\s\S]*)$/;

/** Reads a BullMQ `failedReason` written through {@link toBullmqError}, so callers can branch on `code`. */
export function parseFailedReason(reason: string | undefined): FailedReason {
  const text = reason ?? '';
  const m = CODED.exec(text);
  return m === null || m[1] === undefined || m[2] === undefined ? { code: null, message: text } : { code: m[1], message: m[2] };
}
