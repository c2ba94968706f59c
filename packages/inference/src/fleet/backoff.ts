import type { Rng } from '@differad/core';

/**
 * Delay before retry `attempt` (1 = the first retry): exponential
 * `min(maxMs, baseMs·2^(attempt−1))`, half of it fixed and half uniform
 * jitter from `rng`, so retries of many requests do not arrive in step.
 */
export function computeBackoffMs(
  attempt: number,
  options: { readonly backoffBaseMs: number; readonly backoffMaxMs: number },
  rng: Rng,
): number {
  const cap = Math.min(options.backoffMaxMs, options.backoffBaseMs * 2 ** Math.max(0, attempt - 1));
  return cap / 2 + rng.next() * (cap / 2);
}
