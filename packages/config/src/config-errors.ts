import type { ErrorSpec } from '@differad/core';

/** The error codes @differad/config throws. */
export const CONFIG_ERRORS = {
  CONFIG_FILE_UNREADABLE: { status: null, retryable: false, summary: 'A config file cannot be read.' },
  CONFIG_FILE_INVALID: {
    status: null,
    retryable: false,
    summary: 'A config file is not valid YAML or JSON, or does not hold a mapping at the top level.',
  },
  CONFIG_INVALID: {
    status: null,
    retryable: false,
    summary:
      'The merged configuration (flags, `DIFFERAD_*` variables, file, defaults) breaks its schema; each problem names its key and where the value came from.',
  },
} as const satisfies Record<string, ErrorSpec>;

declare module '@differad/core' {
  interface DifferadErrorTables {
    readonly config: typeof CONFIG_ERRORS;
  }
}
