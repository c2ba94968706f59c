import type { TrainConfig } from '@differad/config';
import type { TrainerClient } from '@differad/trainer-client';
import { type NcclSyncState, syncWeights, syncWeightsNccl, toNcclRendezvous, type WeightSyncTarget } from './weight-sync.js';

/** What a run's weight sync needs. */
export interface RunSyncDeps {
  readonly config: TrainConfig;
  readonly trainer: TrainerClient;
  readonly targets: readonly WeightSyncTarget[];
}

/**
 * vLLM's packed NCCL wire format, agreed on both sides: the server's init_info
 * defaults to unpacked, vLLM's trainer engine (and differad's trainer) to packed
 * (docs/vllm-protocol.md §4.3).
 */
export const NCCL_PACKED = true;

/**
 * Pushes weight version `version` to the run's inference servers with the
 * configured backend: `disk` (the trainer writes a checkpoint the servers
 * reload) or `nccl` (the trainer broadcasts while the servers receive; GPU
 * trainers only, the CPU trainer refuses it with TRAINER_BACKEND_UNSUPPORTED).
 * Used by the step job and by `--resume`, so both sync the same way.
 */
export async function syncRunWeights(deps: RunSyncDeps, version: number, state: NcclSyncState): Promise<void> {
  const { policy } = deps.config;
  if (policy.kind === 'endpoints' && policy.syncBackend === 'none') return;
  if (policy.kind === 'endpoints' && policy.syncBackend === 'nccl') {
    const manifest = await deps.trainer.weightsManifest({ version });
    const send = (options: object) => deps.trainer.sendWeights({ version, backend: 'nccl', options: { ...options } });
    await syncWeightsNccl(
      deps.targets,
      { version, manifest, rendezvous: toNcclRendezvous(deps.trainer.url), packed: NCCL_PACKED, send },
      state,
    );
    return;
  }
  const sent = await deps.trainer.sendWeights({ version, backend: 'disk' });
  await syncWeights(deps.targets, { version, path: sent.path ?? '' });
}
