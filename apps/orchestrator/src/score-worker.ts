import { decideResample, DifferadError, drawReplacementPair, drawStepPairs, finalizeGroup, type ManifestRecord, scoreGroup, toSamplingSeed } from '@differad/core';
import type { ScorePayload } from '@differad/queue';
import type { Job } from 'bullmq';
import { addStepChild } from './child-jobs.js';
import type { GroupStore } from './group-store.js';
import type { RunContext } from './run-context.js';

/** Replacements one slot may draw before a degenerate group is kept anyway (so a step always ends). */
export const MAX_REPLACEMENTS_PER_SLOT = 4;

/**
 * The replacement for slot `slot` of `step`: neither a pair of the step nor
 * one the slot has had (`marks`: attempt → pair id of its replacements so
 * far), null when none is left (docs/method.md §5.4).
 */
function drawReplacement(ctx: RunContext, step: number, slot: number, marks: ReadonlyMap<number, string>): ManifestRecord | null {
  const { run, grpo } = ctx.config;
  const stepPairs = drawStepPairs(run.seed, step, grpo.pairsPerStep, ctx.records.length);
  const replaced = [...marks.entries()].sort(([a], [b]) => a - b).map(([, id]) => ctx.records.findIndex((r) => r.id === id));
  const previous = [stepPairs[slot]!, ...replaced];
  const pick = drawReplacementPair({ seed: run.seed, step, stepPairs, slot, previous, perSlot: MAX_REPLACEMENTS_PER_SLOT, datasetSize: ctx.records.length });
  return pick === null ? null : ctx.records[pick]!;
}

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
    const sampled = await groups.loadSampling(payload.completions.key);
    if (!sampled) throw new DifferadError('ORCHESTRATOR_GROUP_MISSING', `no sampled group at ${payload.completions.key}`, { retryable: true });
    const record = ctx.records.find((r) => r.id === payload.pairId);
    if (!record) throw new DifferadError('ORCHESTRATOR_PAIR_UNKNOWN', `pair ${payload.pairId} is not in the training manifest`);
    const { grpo } = ctx.config;
    const scored = scoreGroup(sampled.completions.map((c) => c.text), record, ctx.score, grpo);
    await groups.appendScore(payload.runId, payload.step, payload.pairIndex, payload.attempt, scored);

    // Attempts of this slot so far: the ones of the current pair, and how many pairs were replaced.
    const [scores, marks] = await Promise.all([
      groups.loadScores(payload.runId, payload.step, payload.pairIndex),
      groups.loadReplacements(payload.runId, payload.step, payload.pairIndex),
    ]);
    const history = [...scores.entries()].sort(([a], [b]) => a - b);
    const starts = [...marks.keys()].filter((a) => a <= payload.attempt);
    const pairStart = starts.length > 0 ? Math.max(...starts) : 0;
    const replacements = starts.length;
    const samePair = history.filter(([a]) => a >= pairStart && a <= payload.attempt).map(([, s]) => s);
    const resamplesDone = samePair.length - 1;
    let decision = decideResample({ degenerate: scored.degenerate, resamplesDone, maxResamples: grpo.maxResamples, onExhausted: grpo.onExhausted });
    if (decision === 'replace' && replacements >= MAX_REPLACEMENTS_PER_SLOT) decision = 'keep';

    const fresh = decision === 'replace' ? drawReplacement(ctx, payload.step, payload.pairIndex, marks) : null;
    if (decision === 'replace' && fresh === null) decision = 'keep';

    const next = payload.attempt + 1;
    const base = {
      runId: payload.runId, step: payload.step, pairIndex: payload.pairIndex, weightVersion: payload.weightVersion, attempt: next,
      ...(payload.round ? { round: payload.round } : {}),
    };
    if (decision === 'resample') {
      await addStepChild(ctx.queues, job, 'resample', { ...base, pairId: sampled.pairId, seed: toSamplingSeed(ctx.config.run.seed, payload.step, payload.pairIndex, next) });
    } else if (decision === 'replace' && fresh !== null) {
      await groups.markReplacement(payload.runId, payload.step, payload.pairIndex, next, fresh.id);
      await addStepChild(ctx.queues, job, 'resample', { ...base, pairId: fresh.id, seed: toSamplingSeed(ctx.config.run.seed, payload.step, payload.pairIndex, next) });
    } else {
      await groups.saveResult(payload.runId, payload.step, payload.pairIndex, {
        pairId: sampled.pairId,
        sampledAttempt: payload.attempt,
        sampled,
        scored,
        final: finalizeGroup(samePair, grpo.weightFrom),
        resamples: history.length - 1 - replacements,
        replacements,
        scoreMs: performance.now() - started,
      });
    }
    return { decision };
  };
}
