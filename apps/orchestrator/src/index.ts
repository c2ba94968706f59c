/** @differad/orchestrator — the GRPO training loop on BullMQ: workers, the step coordinator, weight sync. */
export { type TrainRunInput, type TrainRunResult, trainRun } from './train-run.js';
export { type RunWorkersOptions, startRunWorkers } from './run-workers.js';
export { type ContextFactory, type ResolvedTrainConfig, createContextFactory, isResolved } from './context-factory.js';
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
export { type PairPrompt, type RunContext } from './run-context.js';
export { createDefaultPrompt } from './default-prompt.js';
export { type WorkerProcessInput, startWorkerProcess } from './worker-process.js';
