/** @differad/orchestrator — the GRPO training loop on BullMQ: workers, the step coordinator, weight sync. */
export { ORCHESTRATOR_ERRORS } from './orchestrator-errors.js';
export { type TrainRunInput, type TrainRunResult, trainRun } from './train-run.js';
export { type RunWorkersOptions, startRunWorkers } from './run-workers.js';
export { type ContextFactory, type ResolvedTrainConfig, createContextFactory, buildRunContext, isResolved } from './context-factory.js';
export {
  type WeightSyncTarget,
  type WeightSyncSource,
  type WeightManifest,
  type NcclWeightSyncSource,
  type NcclRendezvous,
  type NcclSendOptions,
  type NcclSyncState,
  syncWeights,
  syncWeightsNccl,
  toNcclRendezvous,
  toRankOffsets,
} from './weight-sync.js';
export { type RunSyncDeps, NCCL_PACKED, syncRunWeights } from './sync-run-weights.js';
export { type LocalServers, startLocalServers } from './local-servers.js';
export { formatStepHeader, formatStepRow } from './step-table.js';
export { RUN_FILES, type RunPolicy, loadRunConfig, loadRunRows, locateRunPolicy } from './run-folder.js';
export { writeHeldOutReport, writeRunSummary } from './run-summary-file.js';
export { type RunContext } from './run-context.js';
export { createRolloutProcessor } from './rollout-worker.js';
export { toTrainerGroup } from './step-worker.js';
export { createScoreProcessor } from './score-worker.js';
export { type GroupStore, type SampledGroup, type SlotResult } from './group-store.js';
export { type WorkerProcessInput, startWorkerProcess } from './worker-process.js';
