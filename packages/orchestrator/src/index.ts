/** @differad/orchestrator — the GRPO training loop on BullMQ: workers, the step coordinator, weight sync. */
export { ORCHESTRATOR_ERRORS } from './orchestrator-errors.js';
export { type TrainRunResult, trainRun } from './train-run.js';
export { type ResolvedTrainConfig, buildRunContext } from './context-factory.js';
export { syncWeights } from './weight-sync.js';
export { syncRunWeights } from './sync-run-weights.js';
export { formatStepHeader } from './step-table.js';
export { RUN_FILES, loadRunConfig, locateRunPolicy } from './run-folder.js';
export { type RunContext } from './run-context.js';
export { createRolloutProcessor } from './rollout-worker.js';
export { toTrainerGroup } from './step-worker.js';
export { type GroupStore, type SlotResult } from './group-store.js';
export { startWorkerProcess } from './worker-process.js';
export { type PairEvaluation, evaluatePair, toEvalSampling } from './evaluate-pair.js';
