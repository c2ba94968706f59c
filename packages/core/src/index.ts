/** @differad/core — the pure domain of DifferAD-R1: boxes, parsing, rewards, group statistics, metrics. */
export { DifferadError, isDifferadError } from './errors/differad-error.js';
export {
  type Box,
  EMPTY_BOX,
  isEmptyBox,
  hasPositiveArea,
  computeBoxArea,
  computeIou,
  computeBoxCenter,
  computeBoxDiagonal,
} from './boxes/box.js';
export {
  FRAMES,
  type Frame,
  type ImageSize,
  type ResizeOptions,
  DEFAULT_RESIZE,
  MAX_ASPECT_RATIO,
  roundHalfEven,
  computeResizedSize,
  toModelFrame,
  toPixelFrame,
} from './boxes/frames.js';
export { MODEL_FAMILIES, type ModelFamily, FAMILY_SYNTAX, isModelFamily } from './parse/families.js';
export { type ParsedAnswer, parseAnswer, toParsedBox, findAnswerBlock } from './parse/parse-answer.js';
export { computeFormatReward } from './rewards/format-reward.js';
export {
  LOC_REWARD_VARIANTS,
  type LocRewardVariant,
  type RewardOptions,
  DEFAULT_REWARD_OPTIONS,
} from './rewards/reward-options.js';
export {
  type Consistency,
  computeConsistency,
  computeBoxLocReward,
  computeLocReward,
  computeTotalReward,
} from './rewards/loc-reward.js';
export {
  ADVANTAGE_MODES,
  type AdvantageMode,
  EXHAUSTED_POLICIES,
  type ExhaustedPolicy,
  type ResampleDecision,
  computeMean,
  computeStd,
  computeAdvantages,
  computeDifficultyWeight,
  isDegenerateGroup,
  decideResample,
} from './groups/group-stats.js';
export {
  type SampleOutcome,
  type MetricSet,
  type MetricReport,
  computeEvalIou,
  computeMetricSet,
  computeClassMean,
  computeMetricReport,
} from './metrics/metrics.js';
export {
  PixelBoxSchema,
  ManifestRecordSchema,
  type ManifestRecord,
  PredictionRecordSchema,
  CompletionPredictionSchema,
  BoxPredictionSchema,
  parsePredictionRecord,
  type PredictionRecord,
  type FieldProblem,
  toFieldProblems,
} from './records/records.js';
export {
  type ScoreSettings,
  DEFAULT_SCORE_SETTINGS,
  type SampleScore,
  computeSampleScore,
} from './scoring/score-sample.js';
export { type Rng, createRng } from './random/rng.js';
export { type ScoreLine, toScoreLine } from './scoring/score-line.js';
export {
  GaussianParamSchema,
  type GaussianParam,
  GaussianPolicySchema,
  type GaussianPolicy,
  DEFAULT_CPU_POLICY,
  type PolicySample,
  samplePolicy,
  computePolicyLogProb,
  clampPolicyValue,
  formatPolicySample,
  parsePolicySample,
} from './policy/gaussian-policy.js';
