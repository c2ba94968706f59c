import type { ErrorSpec } from '@differad/core';

/** The error codes @differad/cpu-policy throws. */
export const CPU_POLICY_ERRORS = {
  POLICY_INVALID: {
    status: null,
    retryable: false,
    summary: 'A CPU policy file cannot be read, is not JSON, breaks its schema or lacks one of the parameters.',
  },
} as const satisfies Record<string, ErrorSpec>;

declare module '@differad/core' {
  interface DifferadErrorTables {
    readonly 'cpu-policy': typeof CPU_POLICY_ERRORS;
  }
}
