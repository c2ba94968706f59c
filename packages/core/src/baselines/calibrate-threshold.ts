import { type Box, computeIou } from '../boxes/box.js';
import { computeEvalIou, computeMetricSet, type MetricSet, type SampleOutcome } from '../metrics/metrics.js';

/** One calibration sample of the docs/method.md §11 baseline: an anomaly map and its ground truth. */
export interface CalibrationSample {
  /** The map's values; only their distribution is read here (for the candidate thresholds). */
  readonly values: ArrayLike<number>;
  /** Ground-truth box, in the frame `mapToBox` answers in; null for a normal sample. */
  readonly truth: Box | null;
}

/**
 * Map → box at a threshold: the tight box of the largest connected component
 * of the pixels above it, null when there is none (docs/method.md §11). Passed in, so
 * core needs no image code.
 */
export type MapToBox<S extends CalibrationSample> = (sample: S, threshold: number) => Box | null;

/** The chosen threshold and what it scored on the calibration part. */
export interface ThresholdCalibration {
  readonly threshold: number;
  /** F1@τ at the threshold (1 when the part has no anomaly and nothing was predicted). */
  readonly f1: number;
  /** Acc@τ at the threshold, the first tie-breaker. */
  readonly acc: number;
  readonly metrics: MetricSet;
  /** Number of thresholds tried. */
  readonly candidates: number;
}

export interface CalibrationOptions {
  /** IoU threshold τ of F1@τ (docs/method.md §8). */
  readonly tau: number;
  /** Most thresholds tried (default 256). */
  readonly maxCandidates?: number;
  /** Called after each threshold tried, for progress. */
  readonly onCandidate?: (done: number, total: number) => void;
}

export const DEFAULT_MAX_CANDIDATES = 256;

/**
 * The thresholds to try: the distinct finite values of all maps, ascending,
 * thinned to at most `maxCandidates` evenly spaced quantiles of that distinct
 * set (the smallest and the largest are always kept; the largest leaves every
 * map empty, i.e. "everything is normal").
 */
export function toThresholdCandidates(maps: readonly ArrayLike<number>[], maxCandidates = DEFAULT_MAX_CANDIDATES): number[] {
  if (!Number.isInteger(maxCandidates) || maxCandidates < 2)
    throw new RangeError(`maxCandidates needs an integer ≥ 2, got ${maxCandidates}`);
  const total = maps.reduce((n, m) => n + m.length, 0);
  const pooled = new Float64Array(total);
  let k = 0;
  for (const m of maps) for (let i = 0; i < m.length; i++) if (Number.isFinite(m[i])) pooled[k++] = m[i]!;
  const sorted = pooled.subarray(0, k).sort();
  const distinct: number[] = [];
  for (const v of sorted) if (distinct.length === 0 || v !== distinct[distinct.length - 1]) distinct.push(v);
  if (distinct.length <= maxCandidates) return distinct;
  const picked: number[] = [];
  for (let c = 0; c < maxCandidates; c++) {
    const v = distinct[Math.round((c * (distinct.length - 1)) / (maxCandidates - 1))]!;
    if (picked.length === 0 || v !== picked[picked.length - 1]) picked.push(v);
  }
  return picked;
}

/** docs/method.md §8 outcomes of every sample thresholded at `threshold`. */
function toOutcomes<S extends CalibrationSample>(samples: readonly S[], mapToBox: MapToBox<S>, threshold: number): SampleOutcome[] {
  return samples.map((s) => {
    const box = mapToBox(s, threshold);
    const iou = box !== null && s.truth !== null ? computeIou(box, s.truth) : 0;
    return {
      class: '',
      anomalous: s.truth !== null,
      predictedBox: box !== null,
      iou,
      u: computeEvalIou(s.truth !== null, box !== null, box === null, iou),
    };
  });
}

/**
 * Chooses the map threshold that maximizes F1@τ on the calibration samples
 * (docs/method.md §11, F1 as in §8). Ties go to the higher Acc@τ (F1 ignores normal
 * samples answered empty), then to the median of the tied thresholds (the
 * lower median for an even count): the lowest tied one sits at the edge where
 * noise starts to win, the median keeps a margin on both sides. A part with no
 * anomaly and no prediction counts as F1 = 1 (nothing missed, nothing wrong).
 */
export function calibrateThreshold<S extends CalibrationSample>(
  samples: readonly S[],
  mapToBox: MapToBox<S>,
  options: CalibrationOptions,
): ThresholdCalibration {
  if (samples.length === 0) throw new RangeError('calibrateThreshold needs at least one sample');
  const candidates = toThresholdCandidates(
    samples.map((s) => s.values),
    options.maxCandidates ?? DEFAULT_MAX_CANDIDATES,
  );
  if (candidates.length === 0) throw new RangeError('the anomaly maps hold no finite value');
  let tied: ThresholdCalibration[] = [];
  for (const [i, threshold] of candidates.entries()) {
    const metrics = computeMetricSet(toOutcomes(samples, mapToBox, threshold), options.tau);
    const result = { threshold, f1: metrics.f1 ?? 1, acc: metrics.acc ?? 0, metrics, candidates: candidates.length };
    const best = tied[0];
    if (best === undefined || result.f1 > best.f1 + 1e-12 || (Math.abs(result.f1 - best.f1) <= 1e-12 && result.acc > best.acc + 1e-12))
      tied = [result];
    else if (Math.abs(result.f1 - best.f1) <= 1e-12 && Math.abs(result.acc - best.acc) <= 1e-12) tied.push(result);
    options.onCandidate?.(i + 1, candidates.length);
  }
  return tied[Math.floor((tied.length - 1) / 2)]!;
}
