import { decideSlot, DifferadError, scoreGroup } from '@differad/core';
import type { ScorePayload } from '@differad/queue';
import type { Job } from 'bullmq';
import { addStepChild } from './child-jobs.js';
import type { GroupStore, SampledGroup } from './group-store.js';
import { recordOf } from './pair-index.js';
import type { RunContext } from './run-context.js';
import { isStaleRound } from './rollout-worker.js';

/** Which sampling of which slot a scoring settles (a rollout's or a score job's payload). */
export type SlotSampling = Pick<ScorePayload, 'runId' | 'step' | 'pairIndex' | 'attempt' | 'weightVersion' | 'round'>;

/**
 * Scores one sampled group and settles its slot: parse and reward the
 * completions, compute advantages and the difficulty weight
 * (docs/method.md §4–§5), record the score, then decide: keep the group
 * (final for the step), resample the same pair (a `resample` job), or
 * replace it with a fresh pair (a `resample` job for the new pair in the
 * same slot). `job` is a job of the step (the rollout, or a score job) that
 * the resample is added beside. Every write is idempotent, so a retried job
 * settles the slot the same way.
 */
export async function settleSampling(
  ctx: RunContext,
  groups: GroupStore,
  job: Job,
  payload: SlotSampling,
  sampled: SampledGroup,
  started: number,
): Promise<{ decision: string }> {
  const record = recordOf(ctx, sampled.pairId);
  if (!record) throw new DifferadError('ORCHESTRATOR_PAIR_UNKNOWN', `pair ${sampled.pairId} is not in the training manifest`);
  const { grpo } = ctx.config;
  const scored = scoreGroup(
    sampled.completions.map((c) => c.text),
    record,
    ctx.score,
    grpo,
  );
  // Attempts of this slot so far: its scored samplings, and the attempts that started a replacement pair.
  const { scores, replacements: marks } = await groups.recordScore(payload.runId, payload.step, payload.pairIndex, payload.attempt, scored);
  const replacements = new Map([...marks].map(([attempt, id]) => [attempt, ctx.pairIndex.get(id) ?? -1]));
  const decision = decideSlot(
    {
      seed: ctx.config.run.seed,
      step: payload.step,
      slot: payload.pairIndex,
      pairsPerStep: grpo.pairsPerStep,
      datasetSize: ctx.records.length,
    },
    { attempt: payload.attempt, degenerate: scored.degenerate, scores, replacements },
    grpo,
  );

  const next = (attempt: number) => ({
    runId: payload.runId,
    step: payload.step,
    pairIndex: payload.pairIndex,
    weightVersion: payload.weightVersion,
    attempt,
    ...(payload.round ? { round: payload.round } : {}),
  });
  if (decision.kind === 'resample') {
    await addStepChild(ctx.queues, job, 'resample', { ...next(decision.attempt), pairId: sampled.pairId, seed: decision.seed });
  } else if (decision.kind === 'replace') {
    const fresh = ctx.records[decision.pair]!;
    await groups.markReplacement(payload.runId, payload.step, payload.pairIndex, decision.attempt, fresh.id);
    await addStepChild(ctx.queues, job, 'resample', { ...next(decision.attempt), pairId: fresh.id, seed: decision.seed });
  } else {
    await groups.saveResult(payload.runId, payload.step, payload.pairIndex, {
      pairId: sampled.pairId,
      sampledAttempt: payload.attempt,
      sampled,
      scored,
      final: decision.final,
      resamples: decision.resamples,
      replacements: decision.replacements,
      scoreMs: performance.now() - started,
    });
  }
  return { decision: decision.kind };
}

/**
 * A score job: a group sampled by a rollout of an earlier release, which
 * stored it under a Redis key for this job (rollouts now score their group
 * themselves, {@link settleSampling}).
 */
export function createScoreProcessor(ctx: RunContext, groups: GroupStore) {
  return async (payload: ScorePayload, job: Job): Promise<{ decision: string }> => {
    const started = performance.now();
    if (payload.completions.kind !== 'key') throw new DifferadError('ORCHESTRATOR_SCORE_INVALID', 'score jobs of a run carry a Redis key');
    if (await isStaleRound(ctx, payload)) return { decision: 'stale' };
    const sampled = await groups.loadSampling(payload.completions.key);
    if (!sampled)
      throw new DifferadError('ORCHESTRATOR_GROUP_MISSING', `no sampled group at ${payload.completions.key}`, { retryable: true });
    return settleSampling(ctx, groups, job, payload, sampled, started);
  };
}
