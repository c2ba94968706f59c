import type { TrainConfig } from '@differad/config';
import {
  decideFleetSync,
  DifferadError,
  type FleetSyncDecision,
  planFleetSync,
  type ServerHealth,
  type ServerSyncOutcome,
} from '@differad/core';
import type { FleetPoolStore } from '@differad/queue';
import type { TrainerClient } from '@differad/trainer-client';
import { NCCL_PACKED } from './sync-run-weights.js';
import {
  type NcclSyncState,
  syncWeightsEach,
  syncWeightsNcclEach,
  toNcclRendezvous,
  type WeightManifest,
  type WeightSyncTarget,
} from './weight-sync.js';

/** Deadline of the `/health` check of each server at a step boundary (ms). */
export const SYNC_HEALTH_TIMEOUT_MS = 5_000;

/** What a run's fleet sync needs. */
export interface FleetSyncDeps {
  readonly runId: string;
  readonly config: TrainConfig;
  readonly trainer: TrainerClient;
  /** Every configured inference server, in config order. */
  readonly targets: readonly WeightSyncTarget[];
  readonly pools: FleetPoolStore;
  readonly log: (line: string) => void;
}

/**
 * The overlapped mode updates in flight (docs/architecture.md §6.2): vLLM's
 * `keep` pause freezes the requests of the steps ahead, which go on with the
 * new weights; the on-policy loop drains them (`wait`), though none run then.
 */
export function pauseModeOf(config: TrainConfig): 'wait' | 'keep' {
  return config.grpo.maxStaleness > 0 ? 'keep' : 'wait';
}

async function checkHealth(targets: readonly WeightSyncTarget[]): Promise<Record<string, ServerHealth>> {
  const entries = await Promise.all(
    targets.map(async (t): Promise<[string, ServerHealth]> => {
      try {
        await t.control.health(SYNC_HEALTH_TIMEOUT_MS);
        return [t.url, { ok: true }];
      } catch (error) {
        return [t.url, { ok: false, reason: error instanceof Error ? error.message : String(error) }];
      }
    }),
  );
  return Object.fromEntries(entries);
}

/**
 * nccl: the collective needs every member, so a server that fails takes the
 * whole attempt down. Servers that failed are dropped and the rest try again
 * in a new group (the group key holds the member list, so both sides
 * re-create it: docs/vllm-protocol.md §6), until an attempt succeeds or no
 * server is left. A failure of the trainer's send alone is not a server's
 * fault: a retryable SYNC_FAILED, as before.
 */
async function syncNcclDropping(
  deps: FleetSyncDeps,
  targets: readonly WeightSyncTarget[],
  version: number,
  manifest: WeightManifest,
  state: NcclSyncState,
): Promise<Record<string, ServerSyncOutcome>> {
  const outcomes: Record<string, ServerSyncOutcome> = {};
  const send = (options: object) => deps.trainer.sendWeights({ version, backend: 'nccl', options: { ...options } });
  let remaining = [...targets];
  while (remaining.length > 0) {
    const result = await syncWeightsNcclEach(
      remaining,
      { version, manifest, rendezvous: toNcclRendezvous(deps.trainer.url), packed: NCCL_PACKED, send, pauseMode: pauseModeOf(deps.config) },
      state,
    );
    const failed = result.servers.filter((r) => r.error !== null);
    if (failed.length === 0 && result.trainer.length > 0) {
      throw new DifferadError('SYNC_FAILED', `nccl weight sync of version ${version} failed on the trainer: ${result.trainer.join('; ')}`, {
        retryable: true,
      });
    }
    for (const r of result.servers) outcomes[r.url] = r.error === null ? { kind: 'synced' } : { kind: 'failed', reason: r.error };
    if (failed.length === 0) break;
    remaining = remaining.filter((t) => !failed.some((f) => f.url === t.url));
    // The ones left synced nothing in this attempt: they are retried, and stay failed only if that fails too.
    for (const t of remaining) outcomes[t.url] = { kind: 'failed', reason: 'the nccl group failed with another server' };
  }
  return outcomes;
}

/** What the trainer contributes to a sync before any server is touched: the disk backend's export (the folder the servers load), or the nccl backend's manifest. */
type TrainerSide = { readonly backend: 'disk'; readonly path: string } | { readonly backend: 'nccl'; readonly manifest: WeightManifest };

async function prepareTrainerSide(deps: FleetSyncDeps, version: number): Promise<TrainerSide> {
  const { policy } = deps.config;
  if (policy.kind === 'endpoints' && policy.syncBackend === 'nccl')
    return { backend: 'nccl', manifest: await deps.trainer.weightsManifest({ version }) };
  const sent = await deps.trainer.sendWeights({ version, backend: 'disk' });
  return { backend: 'disk', path: sent.path ?? '' };
}

async function syncTargets(
  deps: FleetSyncDeps,
  targets: readonly WeightSyncTarget[],
  version: number,
  side: TrainerSide,
  state: NcclSyncState,
): Promise<Record<string, ServerSyncOutcome>> {
  if (side.backend === 'nccl') return syncNcclDropping(deps, targets, version, side.manifest, state);
  const results = await syncWeightsEach(targets, { version, path: side.path, pauseMode: pauseModeOf(deps.config) });
  return Object.fromEntries(results.map((r) => [r.url, r.error === null ? { kind: 'synced' } : { kind: 'failed', reason: r.error }]));
}

/**
 * The weight sync of `version` at the end of `step` over a degraded fleet
 * (docs/architecture.md §6.1): every configured server's `/health` is
 * checked while the trainer exports the weights (`disk`) or lists them
 * (`nccl`), the healthy ones get the weights, and the core decision makes the new rollout pool: synced servers
 * in at `version`, the rest out with their reason. A server that was out
 * and is healthy again rejoins only through this sync, so it never serves
 * stale weights. The pool goes to Redis, where the rollout workers of every
 * process read it. Fewer than `policy.minServers` in: a non-retryable
 * SYNC_TOO_FEW_SERVERS naming every server out and why (the run stops and
 * can be resumed). Returns null for `syncBackend: none` (no sync, no pool).
 */
export async function syncFleet(
  deps: FleetSyncDeps,
  at: { readonly step: number; readonly version: number },
  state: NcclSyncState,
): Promise<FleetSyncDecision | null> {
  const { policy } = deps.config;
  if (deps.targets.length === 0 || (policy.kind === 'endpoints' && policy.syncBackend === 'none')) return null;
  const urls = deps.targets.map((t) => t.url);
  // The trainer's export (or manifest), the servers' /health and the pool's read need nothing of each other: run together, they cost the step the longest of them, not their sum.
  const [side, pool, health] = await Promise.allSettled([
    prepareTrainerSide(deps, at.version),
    deps.pools.load(deps.runId),
    checkHealth(deps.targets),
  ]);
  if (pool.status === 'rejected') throw pool.reason;
  if (health.status === 'rejected') throw health.reason;
  const previous = pool.value;
  const plan = planFleetSync(urls, previous, health.value);
  const targets = deps.targets.filter((t) => plan.targets.includes(t.url));
  // With no server to take them, the trainer's side is not needed, and a failure of it changes nothing.
  let synced: Record<string, ServerSyncOutcome> = {};
  if (targets.length > 0) {
    if (side.status === 'rejected') throw side.reason;
    synced = await syncTargets(deps, targets, at.version, side.value, state);
  }
  const outcomes: Record<string, ServerSyncOutcome> = { ...synced };
  for (const u of plan.unhealthy) outcomes[u.url] = { kind: 'unhealthy', reason: u.reason };
  const decision = decideFleetSync({
    servers: urls,
    previous,
    outcomes,
    step: at.step,
    version: at.version,
    minServers: policy.minServers,
  });
  // The export stays where a member that restarts before the next sync is loaded from again (the fleet's readmit check).
  const weightsPath = side.status === 'fulfilled' && side.value.backend === 'disk' && side.value.path !== '' ? side.value.path : undefined;
  await deps.pools.save(deps.runId, weightsPath === undefined ? decision.pool : { ...decision.pool, weightsPath });
  for (const url of decision.rejoined) deps.log(`fleet: ${url} is back in the rollout pool, re-synced to weight version ${at.version}`);
  if (decision.kind === 'fail') {
    throw new DifferadError(
      'SYNC_TOO_FEW_SERVERS',
      `step ${at.step}: ${decision.message}. Bring the servers back, then continue with: differad train --resume ${deps.runId}`,
      { retryable: false, details: { resumable: true, active: decision.active, out: decision.out, minServers: policy.minServers } },
    );
  }
  if (decision.left.length > 0) deps.log(`warning: step ${at.step}: ${decision.message}`);
  return decision;
}
