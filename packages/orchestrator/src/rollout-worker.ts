import type { FleetPoolStore, ResamplePayload, RolloutPayload, RunStore } from '@differad/queue';
import { DifferadError, type FleetPool, toRolloutTarget, toSampledVersion } from '@differad/core';
import { normalizeServerUrl } from '@differad/inference';
import type { Job } from 'bullmq';
import type { GroupStore, SampledGroup } from './group-store.js';
import { recordOf } from './pair-index.js';
import type { RunContext } from './run-context.js';
import { settleSampling } from './score-worker.js';
import { toTrainerImage } from './trainer-images.js';

/**
 * The servers this rollout may use: those of the run's pool (Redis, written
 * by the step job's sync) that hold `version`, so a server that was out
 * never serves before a sync brought it to the current weights
 * (docs/architecture.md §6.1).
 */
async function toPoolServers(
  ctx: RunContext,
  runId: string,
  asked: number,
  pool: FleetPool | null,
  seen: { pool: string },
): Promise<{ servers: string[] | undefined; version: number; synced: boolean }> {
  const urls = ctx.syncTargets.map((t) => t.url);
  // No sync (`syncBackend: none`), no pool: every server.
  if (urls.length === 0) return { servers: undefined, version: asked, synced: false };
  // Overlapped mode: a rollout enqueued ahead of the trainer samples from the newest weights the pool holds by the time it runs.
  const version = ctx.config.grpo.maxStaleness > 0 && pool !== null && pool.version > asked ? pool.version : asked;
  const { servers, synced } = toRolloutTarget(urls, pool, version);
  if (servers.length === 0) {
    throw new DifferadError(
      'ORCHESTRATOR_NO_POOL_SERVER',
      `no inference server of run ${runId} holds weight version ${version}: every one is out of the rollout pool`,
      { retryable: true },
    );
  }
  // A new pool may hold a server this process's fleet ejected while it was down: it passed /health and took the weights, so probe it now instead of after the ejection backoff.
  const key = pool === null ? '' : `${pool.step}:${pool.version}`;
  if (key !== seen.pool) {
    seen.pool = key;
    const ejected = new Set(
      ctx.fleet
        .stats()
        .servers.filter((s) => s.ejected)
        .map((s) => s.url),
    );
    if (servers.some((url) => ejected.has(normalizeServerUrl(url)))) await ctx.fleet.refresh();
  }
  return { servers, version, synced };
}

/**
 * Overlapped mode: whether the job belongs to a round the run has left (a
 * rewind while it was queued ahead of the trainer). Such a job does
 * nothing, so it never writes over the groups of the step's rerun.
 */
export async function isStaleRound(
  ctx: RunContext,
  payload: { readonly runId: string; readonly round?: number | undefined },
  store: Pick<RunStore, 'loadRound'> = ctx.store,
): Promise<boolean> {
  if (ctx.config.grpo.maxStaleness === 0) return false;
  const round = await store.loadRound(payload.runId);
  return round !== null && round !== (payload.round ?? 0);
}

/**
 * Where rollouts read the run's round and rollout pool. The workers give
 * them stores on an auto-pipelined connection: a rollout's two reads, and
 * those of rollouts starting together, leave in one socket write.
 */
export interface RolloutReads {
  readonly store: Pick<RunStore, 'loadRound'>;
  readonly pools: FleetPoolStore;
}

/**
 * A rollout (or resample) job: prepare the pair once (decode, resize to the
 * model frame, encode; the preparer's content-hash cache makes resamples
 * free), request G completions with every sampling parameter explicit, keep
 * text, token ids, sampling log-probs, finish reason and server, then score
 * the group and settle its slot ({@link settleSampling}: the final group in
 * Redis, or a resample job added to the step).
 */
export function createRolloutProcessor(ctx: RunContext, groups: GroupStore, reads: RolloutReads = ctx) {
  const seen = { pool: '' };
  return async (payload: RolloutPayload | ResamplePayload, job: Job): Promise<{ pairId: string; attempt: number; decision?: string }> => {
    const started = performance.now();
    const record = recordOf(ctx, payload.pairId);
    if (!record) throw new DifferadError('ORCHESTRATOR_PAIR_UNKNOWN', `pair ${payload.pairId} is not in the training manifest`);
    // Both reads at once; the pool is only needed when the servers take weight syncs.
    const [stale, pool] = await Promise.all([
      isStaleRound(ctx, payload, reads.store),
      ctx.syncTargets.length === 0 ? null : reads.pools.load(payload.runId),
    ]);
    if (stale) return { pairId: record.id, attempt: payload.attempt };
    const pair = await ctx.preparer.preparePair(ctx.resolvePath(record.reference), ctx.resolvePath(record.target), {
      reference: record.reference,
      target: record.target,
    });
    const prompt = ctx.prompt(record.id, pair.target, payload.seed);
    const { sampling, grpo } = ctx.config;
    const { servers, version, synced } = await toPoolServers(ctx, payload.runId, payload.weightVersion, pool, seen);
    const result = await ctx.fleet.complete({
      requestId: `${payload.runId}-s${payload.step}-p${payload.pairIndex}-a${payload.attempt}${payload.round ? `-r${payload.round}` : ''}`,
      referenceImage: pair.reference.dataUrl,
      targetImage: pair.target.dataUrl,
      system: prompt.system,
      prompt: prompt.prompt,
      n: grpo.groupSize,
      sampling,
      seed: payload.seed,
      logprobs: true,
      returnTokenIds: true,
      // Overlapped mode: the samplings of the step the trainer waits for go ahead of those of the steps after it.
      priority: payload.step,
      ...(servers === undefined ? {} : { servers }),
      // A pool member that restarted since its sync answers on its starting weights, unlabelled: the fleet ejects it and asks another.
      ...(synced ? { syncedWeights: true } : {}),
      // On-policy, nothing after this would see a reply from older weights (the overlapped mode's staleness rule samples it again).
      ...(synced && grpo.maxStaleness === 0 ? { minWeightVersion: version } : {}),
    });
    ctx.metrics?.observeRollout(result.latencyMs / 1000, result.server);
    ctx.metrics?.recordCompletions(result.completions.map((c) => c.finishReason));
    const completions = result.completions.map((c) => ({
      text: c.text,
      tokenIds: [...(c.tokenIds ?? [])],
      logprobs: [...(c.logprobs ?? [])],
      finishReason: c.finishReason,
      server: c.server,
    }));
    const sampled: SampledGroup = {
      pairId: record.id,
      attempt: payload.attempt,
      seed: payload.seed,
      weightVersion: toSampledVersion(version, result.weightVersions?.[0] ?? result.weightVersion),
      ...(result.weightVersions !== null && result.weightVersions.length > 1 ? { weightVersions: [...result.weightVersions] } : {}),
      promptTokenIds: result.promptTokenIds === null ? null : [...result.promptTokenIds],
      // The frames as sent: the step job gives the trainer these (by hash once it holds them) and refuses a file changed since.
      images: [toTrainerImage(pair.reference).sha256, toTrainerImage(pair.target).sha256],
      system: prompt.system,
      instruction: prompt.prompt,
      completions,
      rolloutMs: performance.now() - started,
    };
    // Scored here, not in a score job of its own: scoring costs well under a millisecond, a BullMQ hop and a Redis round trip of the group more (docs/architecture.md §4.2).
    const { decision } = await settleSampling(ctx, groups, job, payload, sampled, performance.now());
    return { pairId: record.id, attempt: payload.attempt, decision };
  };
}
