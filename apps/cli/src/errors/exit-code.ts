import { isFlagConfigError } from '@differad/config';
import { type DifferadError, toErrorSpec } from '@differad/core';
import { DIFFERAD_ERRORS } from './differad-errors.js';

/**
 * The exit code of a failure that reached `main`: 1 (wrong usage) for a flag
 * value found wrong only once the command ran, that is an error naming its
 * flag in `details.flag` or a configuration value that came from a flag;
 * otherwise the `exit` of its code in the error registry, 2 (unusable input)
 * where it has none, a bad value in a config file or a DIFFERAD_* variable
 * included.
 */
export function toExitCode(error: DifferadError): 1 | 2 {
  if (typeof error.details.flag === 'string' || isFlagConfigError(error)) return 1;
  return toErrorSpec(DIFFERAD_ERRORS, error.code)?.exit ?? 2;
}
