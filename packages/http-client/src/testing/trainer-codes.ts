/** The trainer client's codes and the part of its table the mapper reads, for the http-client tests. */
export const TEST_CODES = {
  TIMEOUT: 'TRAINER_TIMEOUT',
  UNAVAILABLE: 'TRAINER_UNAVAILABLE',
  BAD_RESPONSE: 'TRAINER_BAD_RESPONSE',
  HTTP_ERROR: 'TRAINER_HTTP_ERROR',
  REQUEST_INVALID: 'TRAINER_REQUEST_INVALID',
} as const;

/** Only the retryable flags of a timeout and a failed connection matter to the mapper. */
export const TEST_TABLE = {
  TRAINER_TIMEOUT: { status: null, retryable: true, summary: 'timed out' },
  TRAINER_UNAVAILABLE: { status: null, retryable: true, summary: 'connection failed' },
} as const;
