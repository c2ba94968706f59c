/** @differad/core — the pure domain of DifferAD-R1: boxes, parsing, rewards, group statistics, metrics. */
export { DifferadError, isDifferadError } from './errors/differad-error.js';
export {
  type DifferadErrorTables,
  type ErrorCode,
  type ErrorSpec,
  type ErrorTable,
  mergeErrorTables,
  toErrorCodeNames,
  toErrorSpec,
  toErrorStatuses,
} from './errors/error-registry.js';
export { CORE_ERRORS } from './errors/core-errors.js';
export { createLimiter, mapBounded } from './concurrency/map-bounded.js';
export { type Box, EMPTY_BOX, isEmptyBox, computeIou } from './boxes/box.js';
export {
  FRAMES,
  type Frame,
  type ImageSize,
  type ResizeOptions,
  DEFAULT_RESIZE,
  toFrameResize,
  computeResizedSize,
  toModelFrame,
} from './boxes/frames.js';
export { MODEL_FAMILIES, type ModelFamily } from './parse/families.js';
export { type ParsedAnswer, parseAnswer } from './parse/parse-answer.js';
export { computeFormatReward } from './rewards/format-reward.js';
export {
  LOC_REWARD_VARIANTS,
  type LocRewardVariant,
  type RewardOptions,
  DEFAULT_REWARD_OPTIONS,
} from './rewards/reward-options.js';
export { computeLocReward, computeTotalReward } from './rewards/loc-reward.js';
export { ADVANTAGE_MODES, EXHAUSTED_POLICIES, computeAdvantages, computeDifficultyWeight } from './groups/group-stats.js';
export { type MetricSet, type MetricReport, computeMetricReport, createMetricReportSums } from './metrics/metrics.js';
export {
  ManifestRecordSchema,
  type ManifestRecord,
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
  type PredictionAnswer,
  toPredictionAnswer,
  computeAnswerScore,
} from './scoring/score-sample.js';
export { type AnswerTable, createAnswerTable } from './scoring/answer-table.js';
export { type IdIndex, type IdLookup, createIdIndex } from './scoring/id-index.js';
export { type Rng, createRng } from './random/rng.js';
export { type ScoreLine, toScoreLine } from './scoring/score-line.js';
export { parseDeeppcbAnnotation } from './datasets/deeppcb-annotation.js';
export { selectDefectWindows, selectNormalWindows } from './datasets/deeppcb-windows.js';
export { toCroppedBox } from './datasets/box-scaling.js';
export { type GroupCounts, type Distribution, type DatasetStats, computeDatasetStats } from './datasets/dataset-stats.js';
export { MANIFEST_VERSION, ManifestHeaderSchema, isManifestHeader, checkManifestVersion } from './datasets/manifest-version.js';
export {
  ResearchLineSchema,
  type ResearchLine,
  toResearchBox,
  toPixelBoxFromNorm1000,
  toResearchLine,
} from './datasets/research-line.js';
export { type Scored, selectTopK } from './datasets/top-k.js';
export {
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
export { type GaussianLossSample, type GaussianLossResult, computeGrpoGaussianLoss } from './policy/grpo-gaussian-loss.js';
export { type AdamState, createAdamState, computeAdamStep, computeGradNorm, computeClippedGradient } from './policy/adam.js';
export { toPolicyVector, fromPolicyVector, computePolicyStepScale, toParamRecord, fromParamRecord } from './policy/policy-vector.js';
export { type ScoredGroup, scoreGroup, type FinalGroup } from './training/score-group.js';
export { drawStepPairs, toSamplingSeed } from './training/draw-pairs.js';
export { decideSlot } from './training/slot-decision.js';
export { planMicroBatches } from './training/micro-batches.js';
export { isCheckpointDue, isHeldOutEvalDue } from './training/step-due.js';
export {
  type StaleGroup,
  type StalenessDecision,
  decideStaleness,
  toLabelledVersion,
  toSampledVersion,
  toStalenessFields,
} from './training/staleness.js';
export { type StepRow, toStepRow } from './training/step-row.js';
export { type ResumeSteps, decideResumeSteps } from './training/resume-steps.js';
export {
  BEFORE_TRAINING_STEP,
  type StepMetricsRow,
  type HeldOutMetrics,
  type RewardWindow,
  type RunSummary,
  computeRunSummary,
} from './training/run-summary.js';
export {
  type TrainerPosition,
  checkTrainerAtStep,
  decideTrainerSync,
} from './training/trainer-sync.js';
export { INSTRUCTION_POOL } from './prompts/prompt-templates.js';
export { type PromptPool, parsePromptPool, toSystemPrompt, type PairPrompt, toPairPrompt, toPairMessages } from './prompts/pair-prompts.js';
export { type CalibrationSample, type ThresholdCalibration, calibrateThreshold } from './baselines/calibrate-threshold.js';
export { DEFAULT_CALIBRATION_SHARE, splitCalibration } from './baselines/split-calibration.js';
export { type GroupedSplit, type SplitPart, type SplitSize, splitByGroups, toGroupKey, toTargetCount } from './splits/grouped-split.js';
export {
  FleetPoolSchema,
  type FleetPool,
  type ServerHealth,
  type ServerSyncOutcome,
  type FleetSyncDecision,
  planFleetSync,
  decideFleetSync,
  toRolloutTarget,
  planReadmit,
  toWeightsLost,
} from './fleet/fleet-membership.js';
export { DRAIN_MIN_SAMPLES, type DrainView, decideDrainHold, drainHoldEndsAt } from './fleet/drain-hold.js';
