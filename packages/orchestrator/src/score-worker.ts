import { decideSlot, DifferadError, scoreGroup } from '@differad/core';
import type { ScorePayload } from '@differad/queue';
import type { Job } from 'bullmq';
import { addStepChild } from './child-jobs.js';
import type { GroupStore } from './group-store.js';
import type { RunContext } from './run-context.js';
import { isStaleRound } from './rollout-worker.js';

/**
 * A score job: parse and reward the group's completions, compute advantages
 * and the difficulty weight (docs/method.md §4–§5), then decide: keep the group
 * (final for the step), resample the same pair (a `resample` job), or replace
 * it with a fresh pair (a new `rollout` in the same slot).
 */
export function createScoreProcessor(ctx: RunContext, groups: GroupStore) {
  return async (payload: ScorePayload, job: Job): Promise<{ decision: string }> => {
    const started = performance.now();
    if (payload.completions.kind !== 'key') throw new DifferadError('ORCHESTRATOR_SCORE_INVALID', 'score jobs of a run carry a Redis key');
    if (await isStaleRound(ctx, payload)) return { decision: 'stale' };
    const sampled = await groups.loadSampling(payload.completions.key);
    if (!sampled) throw new DifferadError('ORCHESTRATOR_GROUP_MISSING', `no sampled group at ${payload.completions.key}`, { retryable: true });
    const record = ctx.records.find((r) => r.id === payload.pairId);
    if (!record) throw new DifferadError('ORCHESTRATOR_PAIR_UNKNOWN', `pair ${payload.pairId} is not in the training manifest`);
    const { grpo } = ctx.config;
    const scored = scoreGroup(sampled.completions.map((c) => c.text), record, ctx.score, grpo);
    await groups.appendScore(payload.runId, payload.step, payload.pairIndex, payload.attempt, scored);

    // Attempts of this slot so far: its scored samplings, and the attempts that started a replacement pair.
    const [scores, marks] = await Promise.all([
      groups.loadScores(payload.runId, payload.step, payload.pairIndex),
      groups.loadReplacements(payload.runId, payload.step, payload.pairIndex),
    ]);
    const replacements = new Map([...marks].map(([attempt, id]) => [attempt, ctx.records.findIndex((r) => r.id === id)]));
    const decision = decideSlot(
      { seed: ctx.config.run.seed, step: payload.step, slot: payload.pairIndex, pairsPerStep: grpo.pairsPerStep, datasetSize: ctx.records.length },
      { attempt: payload.attempt, degenerate: scored.degenerate, scores, replacements },
      grpo,
    );

    const next = (attempt: number) => ({
      runId: payload.runId, step: payload.step, pairIndex: payload.pairIndex, weightVersion: payload.weightVersion, attempt,
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
  };
}
