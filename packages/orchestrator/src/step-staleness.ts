import { decideStaleness, DifferadError, toSamplingSeed } from '@differad/core';
import type { StepPayload } from '@differad/queue';
import { type Job, WaitingChildrenError } from 'bullmq';
import { addOwnChild } from './child-jobs.js';
import type { GroupStore, SlotResult } from './group-store.js';
import type { RunContext } from './run-context.js';

/** The step job's error when it belongs to a round the run has left (overlapped mode; non-retryable, nobody waits for it). */
export const STALE_ROUND_CODE = 'ORCHESTRATOR_STALE_ROUND';

/** What a step row says of its groups' ages (core's toStalenessFields). */
export interface StepStaleness {
  readonly histogram: readonly number[];
  readonly regenerated: number;
}

/**
 * Overlapped mode: a step job of a round the run has left (a rewind while
 * it waited ahead of the trainer) fails at once instead of training.
 */
export async function checkStepRound(ctx: RunContext, payload: StepPayload): Promise<void> {
  if (ctx.config.grpo.maxStaleness === 0) return;
  const rec = await ctx.store.loadRecovery(payload.runId);
  if (rec !== null && rec.round !== (payload.round ?? 0)) {
    throw new DifferadError(
      STALE_ROUND_CODE,
      `step ${payload.step} of round ${payload.round ?? 0} was queued ahead of the trainer, but the run is at round ${rec.round}`,
    );
  }
}

/**
 * The overlapped mode's staleness rule at the trainer (docs/method.md §6.9):
 * core's decideStaleness over the step's groups at the trainer's version.
 * Groups more than `grpo.maxStaleness` versions old are sampled again as the
 * slot's next attempt (its own seed, so a rerun samples the same) as
 * children of this step job, which then waits for them
 * (`moveToWaitingChildren`) and runs again; the resample and replacement
 * rules apply to the new sampling as to any other. Returns the histogram of
 * the groups it trains.
 */
export async function settleStaleness(
  ctx: RunContext,
  groups: GroupStore,
  job: Job,
  payload: StepPayload,
  slots: readonly SlotResult[],
  trainerVersion: number,
): Promise<StepStaleness> {
  const { maxStaleness } = ctx.config.grpo;
  const decision = decideStaleness(
    slots.map((s) => ({ version: s.sampled.weightVersion, completions: s.sampled.completions.length })),
    trainerVersion,
    maxStaleness,
  );
  if (decision.regenerate.length > 0) {
    ctx.log(
      `step ${payload.step}: ${decision.regenerate.length} group(s) sampled more than ${maxStaleness} weight version(s) before ${trainerVersion}; sampling them again`,
    );
    for (const k of decision.regenerate) {
      const slot = slots[k]!;
      const attempt = slot.sampledAttempt + 1;
      await groups.startRegeneration(payload.runId, payload.step, k);
      await addOwnChild(ctx.queues, job, 'resample', {
        runId: payload.runId,
        step: payload.step,
        pairIndex: k,
        pairId: slot.pairId,
        attempt,
        seed: toSamplingSeed(ctx.config.run.seed, payload.step, k, attempt),
        weightVersion: trainerVersion,
        ...(payload.round ? { round: payload.round } : {}),
      });
    }
    // Moved: BullMQ runs the job again once the new samplings are final. Not moved: they are final already, so read them now.
    if (await job.moveToWaitingChildren(job.token ?? '')) throw new WaitingChildrenError();
    throw new DifferadError(
      'ORCHESTRATOR_GROUP_MISSING',
      `step ${payload.step}: regenerated groups finished before the step waited for them; running it again`,
      { retryable: true },
    );
  }
  return { histogram: decision.histogram, regenerated: await groups.countRegenerated(payload.runId, payload.step) };
}
