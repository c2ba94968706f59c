import type { Rng } from '../random/rng.js';

/** Indices of a calibration part and an evaluation part, each ascending (manifest order). */
export interface CalibrationSplit {
  readonly calibration: readonly number[];
  readonly evaluation: readonly number[];
}

/** The default share of the calibration part (docs/method.md §11: a 30% calibration split). */
export const DEFAULT_CALIBRATION_SHARE = 0.3;

/**
 * Splits `n` samples by a seeded Fisher–Yates shuffle: the first
 * round(share·n) shuffled indices (at least 1, at most n − 1) calibrate, the
 * rest are evaluated. Reproducible from the RNG's seed.
 */
export function splitCalibration(n: number, share: number, rng: Rng): CalibrationSplit {
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`a calibration split needs at least 2 samples, got ${n}`);
  if (!(share > 0 && share < 1)) throw new RangeError(`the calibration share must be in (0, 1), got ${share}`);
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const size = Math.min(n - 1, Math.max(1, Math.round(share * n)));
  const ascending = (a: number, b: number) => a - b;
  return { calibration: order.slice(0, size).sort(ascending), evaluation: order.slice(size).sort(ascending) };
}
