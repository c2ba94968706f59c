import type { ErrorSpec } from '@differad/core';

/** The error codes @differad/http-server throws itself (a server's own codes are in its own table). */
export const HTTP_SERVER_ERRORS = {
  HTTP_BODY_TOO_LARGE: {
    status: 413,
    retryable: false,
    summary:
      'A request body is larger than the limit; `details.limit` in bytes (a server that builds its own error instead uses its own code).',
  },
} as const satisfies Record<string, ErrorSpec>;

declare module '@differad/core' {
  interface DifferadErrorTables {
    readonly 'http-server': typeof HTTP_SERVER_ERRORS;
  }
}
