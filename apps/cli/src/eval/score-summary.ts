import {
  computeMean,
  computeMetricReport,
  computeSampleScore,
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

/** What a score summary is computed from. */
export interface ScoreSummaryInput {
  /** The records scored (every manifest record for `score`; the evaluated ones for `eval`). */
  readonly records: readonly ManifestRecord[];
  readonly predictions: LoadedPredictions;
  readonly settings: ScoreSettings;
  /** The paths as the user gave them, reported under `input`. */
  readonly manifestPath: string;
  readonly predictionsPath: string;
}

/**
 * Scores every record (a record without a prediction is scored as missing,
 * i.e. invalid) and builds the summary of `differad score --json`: the
 * docs/method.md §8 report, the settings, mean rewards and input counts.
 */
export function computeScoreSummary(input: ScoreSummaryInput): { summary: ScoreSummary; scores: SampleScore[] } {
  const { records, predictions, settings } = input;
  const scores = records.map((r) => computeSampleScore(r, predictions.byId.get(r.id), settings));
  const report = computeMetricReport(scores, settings.reward.tau);
  const formatRewards = scores.map((s) => s.format_reward).filter((v): v is number => v !== null);
  const missing = scores.filter((s) => s.kind === 'missing').length;
  const summary: ScoreSummary = {
    ...report,
    family: settings.family,
    frame: settings.frame,
    reward: settings.reward,
    rewards: {
      format_mean: formatRewards.length > 0 ? computeMean(formatRewards) : null,
      loc_mean: computeMean(scores.map((s) => s.loc_reward)),
      reward_mean: computeMean(scores.map((s) => s.reward)),
    },
    input: {
      manifest: input.manifestPath,
      predictions: input.predictionsPath,
      samples: scores.length,
      prediction_lines: predictions.lineCount,
      used: scores.length - missing,
      malformed: predictions.malformed.length,
      duplicates: predictions.duplicates.length,
      unknown_ids: predictions.unknown.length,
      missing,
      invalid: scores.filter((s) => s.kind === 'invalid').length,
    },
  };
  return { summary, scores };
}
