import { type Box, computeIou, isEmptyBox } from '../boxes/box.js';
import { DEFAULT_RESIZE, type Frame, type ResizeOptions, toModelFrame, toPixelFrame } from '../boxes/frames.js';
import { computeEvalIou, type SampleOutcome } from '../metrics/metrics.js';
import type { ModelFamily } from '../parse/families.js';
import { type ParsedAnswer, parseAnswer, toParsedBox } from '../parse/parse-answer.js';
import type { ManifestRecord, PredictionRecord } from '../records/records.js';
import { computeFormatReward } from '../rewards/format-reward.js';
import { computeLocReward, computeTotalReward } from '../rewards/loc-reward.js';
import { DEFAULT_REWARD_OPTIONS, type RewardOptions } from '../rewards/reward-options.js';

export interface ScoreSettings {
  readonly family: ModelFamily;
  /** Frame of boxes in completions; box predictions are always pixels. */
  readonly frame: Frame;
  readonly resize: ResizeOptions;
  readonly reward: RewardOptions;
}

export const DEFAULT_SCORE_SETTINGS: ScoreSettings = Object.freeze({
  family: 'differad',
  frame: 'norm1000',
  resize: DEFAULT_RESIZE,
  reward: DEFAULT_REWARD_OPTIONS,
});

/** The per-sample result that `differad score --out` writes, one per manifest line. */
export interface SampleScore extends SampleOutcome {
  readonly id: string;
  readonly kind: ParsedAnswer['kind'] | 'missing';
  readonly valid: boolean;
  readonly reason: string | null;
  /** The predicted box in the frame it was given in; null when empty or invalid. */
  readonly box: Box | null;
  readonly frame: Frame;
  /** The predicted box in pixels of the target; null when empty or invalid. */
  readonly box_pixels: Box | null;
  /** Ground truth in the prediction's frame; null for a normal sample. */
  readonly gt_box: Box | null;
  /** R_fmt; null for box predictions, which have no text. */
  readonly format_reward: number | null;
  readonly loc_reward: number;
  readonly reward: number;
}

function completionOf(prediction: PredictionRecord | undefined): string | null {
  return prediction !== undefined && typeof prediction.completion === 'string' ? prediction.completion : null;
}

function answerOf(prediction: PredictionRecord, completion: string | null, family: ModelFamily): ParsedAnswer {
  if (completion !== null) return parseAnswer(completion, family);
  const box = prediction.box as Box | null;
  return box === null ? { kind: 'empty' } : toParsedBox(box);
}

/**
 * What scoring needs of one prediction, without its text: the parsed answer,
 * R_fmt (null for box predictions) and the frame its box is in. It depends on
 * the prediction and the settings alone, so a scorer can parse predictions as
 * they stream by and keep this compact value instead of the completion.
 */
export interface PredictionAnswer {
  readonly answer: ParsedAnswer;
  readonly formatReward: number | null;
  readonly frame: Frame;
}

/** Parses one prediction into its PredictionAnswer (docs/method.md §3, §4). */
export function toPredictionAnswer(prediction: PredictionRecord, settings: ScoreSettings = DEFAULT_SCORE_SETTINGS): PredictionAnswer {
  const completion = completionOf(prediction);
  return {
    answer: answerOf(prediction, completion, settings.family),
    formatReward: completion === null ? null : computeFormatReward(completion),
    frame: completion !== null ? settings.frame : 'pixels',
  };
}

/**
 * Scores one prediction against its manifest record: rewards in the model
 * frame (docs/method.md §2, §4), evaluation IoU in pixels (docs/method.md §8). A missing
 * prediction is scored as invalid.
 */
export function computeSampleScore(
  record: ManifestRecord,
  prediction: PredictionRecord | undefined,
  settings: ScoreSettings = DEFAULT_SCORE_SETTINGS,
): SampleScore {
  return computeAnswerScore(record, prediction === undefined ? undefined : toPredictionAnswer(prediction, settings), settings);
}

/** `computeSampleScore` from an already parsed prediction (undefined: no prediction, scored as invalid). */
export function computeAnswerScore(
  record: ManifestRecord,
  parsed: PredictionAnswer | undefined,
  settings: ScoreSettings = DEFAULT_SCORE_SETTINGS,
): SampleScore {
  const size = { width: record.width, height: record.height };
  const frame: Frame = parsed === undefined ? settings.frame : parsed.frame;
  const gtPixels: Box | null = record.box === null ? null : (record.box as Box);
  const gtModel = gtPixels === null ? null : toModelFrame(gtPixels, frame, size, settings.resize);
  const answer = parsed === undefined ? null : parsed.answer;

  const formatReward = parsed === undefined ? null : parsed.formatReward;
  const locReward = computeLocReward(answer, gtModel, settings.reward);
  const reward = computeTotalReward(formatReward ?? 0, locReward, settings.reward);

  const boxModel = answer?.kind === 'box' ? answer.box : null;
  const boxPixels = boxModel === null ? null : toPixelFrame(boxModel, frame, size, settings.resize);
  const iou = boxPixels !== null && gtPixels !== null ? computeIou(boxPixels, gtPixels) : 0;
  const predictedEmpty = answer?.kind === 'empty' || (boxModel !== null && isEmptyBox(boxModel));
  return {
    id: record.id,
    class: record.class,
    subset: record.subset,
    kind: answer === null ? 'missing' : answer.kind,
    valid: answer !== null && answer.kind !== 'invalid',
    reason: answer === null ? 'no prediction for this id' : answer.kind === 'invalid' ? answer.reason : null,
    box: boxModel,
    frame,
    box_pixels: boxPixels,
    gt_box: gtModel,
    format_reward: formatReward,
    loc_reward: locReward,
    reward,
    anomalous: gtPixels !== null,
    predictedBox: boxPixels !== null,
    iou,
    u: computeEvalIou(gtPixels !== null, boxPixels !== null, predictedEmpty, iou),
  };
}
