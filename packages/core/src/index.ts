/** @differad/core — the pure domain of DifferAD-R1: boxes, parsing, rewards, group statistics, metrics. */
export { DifferadError, isDifferadError } from './errors/differad-error.js';
export {
  type DifferadErrorTables,
  type ErrorCode,
  type ErrorCodeNames,
  type ErrorSpec,
  type ErrorStatuses,
  type ErrorTable,
  mergeErrorTables,
  toErrorCodeNames,
  toErrorSpec,
  toErrorStatuses,
} from './errors/error-registry.js';
export { CORE_ERRORS } from './errors/core-errors.js';
export { type Limiter, type MapBoundedOptions, createLimiter, mapBounded } from './concurrency/map-bounded.js';
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
  IDENTITY_RESIZE,
  toFrameResize,
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
  computeDefectClassMean,
  computeMetricReport,
  type MetricSums,
  createMetricSums,
  type MetricReportSums,
  createMetricReportSums,
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
  type PredictionAnswer,
  toPredictionAnswer,
  computeAnswerScore,
} from './scoring/score-sample.js';
export { type AnswerTable, createAnswerTable } from './scoring/answer-table.js';
export { type IdIndex, type IdLookup, computeIdHash, createIdIndex } from './scoring/id-index.js';
export { type Rng, createRng } from './random/rng.js';
export { type ScoreLine, toScoreLine } from './scoring/score-line.js';
export {
  DEEPPCB_DEFECT_TYPES,
  type DeeppcbDefectType,
  type DeeppcbDefect,
  type AnnotationProblem,
  type ParsedDeeppcbAnnotation,
  parseDeeppcbAnnotation,
} from './datasets/deeppcb-annotation.js';
export {
  type DefectWindow,
  type WindowMiss,
  isOverlapping,
  isBoxInside,
  selectDefectWindow,
  selectDefectWindows,
  selectNormalWindows,
} from './datasets/deeppcb-windows.js';
export { toScaledBox, toCroppedBox, toSourceBox } from './datasets/box-scaling.js';
export {
  type StatsRecord,
  type GroupCounts,
  type Distribution,
  type DatasetStats,
  BOX_SIZE_BUCKETS,
  computeDistribution,
  computeDatasetStats,
} from './datasets/dataset-stats.js';
export {
  MANIFEST_VERSION,
  SUPPORTED_MANIFEST_VERSIONS,
  ManifestHeaderSchema,
  type ManifestHeader,
  isManifestHeader,
  checkManifestVersion,
} from './datasets/manifest-version.js';
export {
  ResearchLineSchema,
  type ResearchLine,
  toResearchBox,
  toPixelBoxFromNorm1000,
  toResearchLine,
} from './datasets/research-line.js';
export { type Scored, selectTopK } from './datasets/top-k.js';
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
export {
  MAX_LOG_RATIO,
  type GaussianLossConfig,
  type GaussianLossSample,
  type GaussianLossResult,
  computeGaussianLogProbGradient,
  computeGrpoGaussianLoss,
} from './policy/grpo-gaussian-loss.js';
export { type AdamSettings, type AdamState, createAdamState, computeAdamStep, computeGradNorm, computeClippedGradient } from './policy/adam.js';
export { LOG_STD_RANGE, type ParamPair, toPolicyVector, fromPolicyVector, computePolicyStepScale, LOG_STD_STEP_SCALE, toParamRecord, fromParamRecord } from './policy/policy-vector.js';
export {
  type GroupSettings,
  type ScoredGroup,
  scoreGroup,
  type FinalGroup,
  finalizeGroup,
  type StepRewardStats,
  computeStepRewardStats,
} from './training/score-group.js';
export { drawStepPairs, type ReplacementDraw, drawReplacementPair, toSamplingSeed } from './training/draw-pairs.js';
export {
  MAX_REPLACEMENTS_PER_SLOT,
  type SlotPosition,
  type SlotHistory,
  type SlotRules,
  type SlotDecision,
  decideSlot,
} from './training/slot-decision.js';
export { type MicroBatchPlan, planMicroBatches } from './training/micro-batches.js';
export { type StepCadence, isCheckpointDue, isHeldOutEvalDue } from './training/step-due.js';
export { type StepRow, type StepRowSlot, type StepRowMicroBatch, type StepRowInput, toStepRow } from './training/step-row.js';
export { type ResumeSteps, type ResumeStepsInput, decideResumeSteps } from './training/resume-steps.js';
export {
  BEFORE_TRAINING_STEP,
  REWARD_WINDOW_STEPS,
  type StepMetricsRow,
  type HeldOutMetrics,
  type RewardWindow,
  type RunSummary,
  type RunSummaryInput,
  computeRunSummary,
} from './training/run-summary.js';
export {
export { type StaleGroup, type StalenessDecision, decideStaleness, toStalenessFields } from './training/staleness.js';
  type SavedCheckpoint,
  type StepAtTrainer,
  type StorePosition,
  type TrainerPosition,
  type TrainerSync,
  type TrainerSyncInput,
  checkTrainerAtStep,
  decideTrainerSync,
} from './training/trainer-sync.js';
export {
  type AnswerFormat,
  FAMILY_ANSWER_FORMATS,
  FRAME_RULES,
  TAGGED_SYSTEM_TEMPLATE,
  PLAIN_SYSTEM_TEMPLATE,
  INSTRUCTION_POOL,
} from './prompts/prompt-templates.js';
export {
  PromptPoolSchema,
  type PromptPool,
  parsePromptPool,
  fillTemplate,
  toSystemPrompt,
  pickInstruction,
  type PairPrompt,
  type PairPromptOptions,
  toPairPrompt,
  type PairContentPart,
  type PairMessage,
  toPairMessages,
} from './prompts/pair-prompts.js';
export {
  type CalibrationSample,
  type MapToBox,
  type ThresholdCalibration,
  type CalibrationOptions,
  DEFAULT_MAX_CANDIDATES,
  toThresholdCandidates,
  calibrateThreshold,
} from './baselines/calibrate-threshold.js';
export { type CalibrationSplit, DEFAULT_CALIBRATION_SHARE, splitCalibration } from './baselines/split-calibration.js';
export { type GroupedSplit, type SplitPart, type SplitSize, SPLIT_PARTS, splitByGroups, toGroupKey, toTargetCount } from './splits/grouped-split.js';
export {
  FleetMemberSchema,
  type FleetMember,
  FleetPoolSchema,
  type FleetPool,
  type ServerHealth,
  type ServerSyncOutcome,
  type FleetSyncPlan,
  type ServerOut,
  type FleetSyncDecision,
  planFleetSync,
  decideFleetSync,
  toRolloutServers,
} from './fleet/fleet-membership.js';
