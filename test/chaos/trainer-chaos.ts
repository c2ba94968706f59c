/** Helpers of the trainer chaos tests: rows compared without timings, the step table's row of a step. */
import type { MetricsRow } from '../e2e/train-harness.js';

/** A metrics row without its timings (`*_ms`), which differ from run to run. */
export function withoutTimings(row: MetricsRow): Record<string, number | null> {
  return Object.fromEntries(Object.entries(row).filter(([k]) => !k.endsWith('_ms')));
}

/** The regular expression of step `step`'s row in the printed step table. */
export function stepRow(step: number): RegExp {
  return new RegExp(`^\\s+${step}\\s+\\d+\\.\\d{3}\\s`, 'm');
}
