import {
  computeSampleScore,
  createMetricReportSums,
  type ManifestRecord,
  type MetricReport,
  type RewardOptions,
  type SampleScore,
  type ScoreSettings,
} from '@differad/core';
import type { LoadedPredictions } from '@differad/datasets';

/** The `differad score --json` object (a contract: `differad eval` writes the same as metrics.json). */
export interface ScoreSummary extends MetricReport {
  readonly family: ScoreSettings['family'];
  readonly frame: ScoreSettings['frame'];
  readonly reward: RewardOptions;
  readonly rewards: {
    readonly format_mean: number | null;
    readonly loc_mean: number;
    readonly reward_mean: number;
  };
  readonly input: {
    readonly manifest: string;
    readonly predictions: string;
    readonly samples: number;
    readonly prediction_lines: number;
    readonly used: number;
    readonly malformed: number;
    readonly duplicates: number;
    readonly unknown_ids: number;
    readonly missing: number;
    readonly invalid: number;
  };
}

/** Counts of the prediction file, reported under `input`. */
export interface PredictionCounts {
  readonly lineCount: number;
  readonly malformed: number;
  readonly duplicates: number;
  readonly unknown: number;
}

/** The paths as the user gave them, reported under `input`. */
export interface SummaryPaths {
  readonly manifestPath: string;
  readonly predictionsPath: string;
}

/** A score summary built one scored sample at a time. */
export interface ScoreSummarySums {
  add(score: SampleScore): void;
  toSummary(paths: SummaryPaths, counts: PredictionCounts): ScoreSummary;
}

/**
 * Running sums of the summary of `differad score --json`: the docs/method.md §8
 * report (createMetricReportSums), mean rewards and answer counts. Adding the
 * scores in the same order as computeScoreSummary gives the same summary.
 */
export function createScoreSummarySums(settings: ScoreSettings): ScoreSummarySums {
  const metrics = createMetricReportSums(settings.reward.tau);
  let samples = 0;
  let formatSum = 0;
  let formatCount = 0;
  let locSum = 0;
  let rewardSum = 0;
  let missing = 0;
  let invalid = 0;
  return {
    add(s) {
      metrics.add(s);
      samples++;
      if (s.format_reward !== null) {
        formatSum += s.format_reward;
        formatCount++;
      }
      locSum += s.loc_reward;
      rewardSum += s.reward;
      if (s.kind === 'missing') missing++;
      if (s.kind === 'invalid') invalid++;
    },
    toSummary(paths, counts) {
      return {
        ...metrics.toReport(),
        family: settings.family,
        frame: settings.frame,
        reward: settings.reward,
        rewards: {
          format_mean: formatCount > 0 ? formatSum / formatCount : null,
          loc_mean: samples > 0 ? locSum / samples : 0,
          reward_mean: samples > 0 ? rewardSum / samples : 0,
        },
        input: {
          manifest: paths.manifestPath,
          predictions: paths.predictionsPath,
          samples,
          prediction_lines: counts.lineCount,
          used: samples - missing,
          malformed: counts.malformed,
          duplicates: counts.duplicates,
          unknown_ids: counts.unknown,
          missing,
          invalid,
        },
      };
    },
  };
}

/** What a score summary is computed from. */
export interface ScoreSummaryInput extends SummaryPaths {
  /** The records scored (every manifest record for `score`; the evaluated ones for `eval`). */
  readonly records: readonly ManifestRecord[];
  readonly predictions: LoadedPredictions;
  readonly settings: ScoreSettings;
}

/**
 * Scores every record (a record without a prediction is scored as missing,
 * i.e. invalid) and builds the summary of `differad score --json`: the
 * docs/method.md §8 report, the settings, mean rewards and input counts.
 */
export function computeScoreSummary(input: ScoreSummaryInput): { summary: ScoreSummary; scores: SampleScore[] } {
  const { records, predictions, settings } = input;
  const sums = createScoreSummarySums(settings);
  const scores = records.map((r) => computeSampleScore(r, predictions.byId.get(r.id), settings));
  scores.forEach((s) => sums.add(s));
  const { lineCount, malformed, duplicates, unknown } = predictions;
  const summary = sums.toSummary(input, { lineCount, malformed: malformed.length, duplicates: duplicates.length, unknown: unknown.length });
  return { summary, scores };
}
