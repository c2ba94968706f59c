import { InvalidArgumentError } from 'commander';

/**
 * A commander parser for an integer flag with both bounds: a value outside
 * them is wrong usage (exit 1) before any work starts, instead of a failure
 * deep inside (a 20000-pixel preview tile fails only at encoding, after
 * gigabytes of pixels).
 */
export function parseBoundedInteger(flag: string, min: number, max: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${flag} needs an integer from ${min} to ${max}, got "${value}"`);
    return n;
  };
}
