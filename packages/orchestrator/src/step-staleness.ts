import { decideStaleness, DifferadError, toSamplingSeed } from '@differad/core';
import type { StepPayload } from '@differad/queue';
import { type Job, WaitingChildrenError } from 'bullmq';
import { addOwnChild } from './child-jobs.js';
import { type GroupStore, loadRegenerationCounts, loadRegenerations, type Regeneration, type SlotResult } from './group-store.js';
import type { RunContext } from './run-context.js';

/**
 * How many times one slot of a step may be sampled again for being too old
 * before the step fails: a group that is still too old after that was
 * sampled by a server that keeps serving old weights, and sampling it again
 * would never end.
 */
export const MAX_REGENERATIONS = 3;

/** The step job's error when a slot's regenerations keep coming back too old (non-retryable: the run stops, resumable once the server is fixed). */
export const STALE_SERVER_CODE = 'ORCHESTRATOR_STALE_SERVER';

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
  const round = await ctx.store.loadRound(payload.runId);
  if (round !== null && round !== (payload.round ?? 0)) {
    throw new DifferadError(
      STALE_ROUND_CODE,
      `step ${payload.step} of round ${payload.round ?? 0} was queued ahead of the trainer, but the run is at round ${round}`,
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
 * rules apply to the new sampling as to any other. A slot sampled again
 * MAX_REGENERATIONS times that is still too old fails the step
 * (STALE_SERVER_CODE). Returns the histogram of the groups it trains.
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
    const counts = await loadRegenerationCounts(ctx.redis, payload.runId, payload.step, decision.regenerate);
    const worn = decision.regenerate.findIndex((_, i) => counts[i]! >= MAX_REGENERATIONS);
    if (worn >= 0) {
      const k = decision.regenerate[worn]!;
      const { sampled } = slots[k]!;
      const servers = [...new Set(sampled.completions.map((c) => c.server))].join(', ');
      throw new DifferadError(
        STALE_SERVER_CODE,
        `step ${payload.step}: slot ${k} (pair ${sampled.pairId}) was sampled again ${counts[worn]} times and came back more than ${maxStaleness} weight version(s) behind the trainer's ${trainerVersion} each time (last at version ${sampled.weightVersion}, from ${servers}): a server in the rollout pool keeps serving old weights`,
      );
    }
    for (const k of decision.regenerate) {
      const slot = slots[k]!;
      const regeneration = { pairId: slot.pairId, attempt: slot.sampledAttempt + 1, weightVersion: trainerVersion };
      // Recorded with the deletion: a job that dies before the next line adds the sampling on its retry (resumeRegenerations).
      await groups.startRegeneration(payload.runId, payload.step, k, regeneration);
      await addRegeneration(ctx, job, payload, k, regeneration);
    }
    return waitForRegenerations(job, payload);
  }
  return { histogram: decision.histogram, regenerated: await groups.countRegenerated(payload.runId, payload.step) };
}

/**
 * Overlapped mode: a step job that died between a slot's
 * `startRegeneration` (its final group deleted) and adding the slot's new
 * sampling would find the slot missing on every retry. Of the step's slots
 * with no final group (`missing`), those whose regeneration was started get
 * that sampling added again, with the payload it had (the same job id, so one
 * added already, and what it added since, is not added twice), and the job
 * waits for it. Returns when none of them had one: the caller's
 * ORCHESTRATOR_GROUP_MISSING stands. A slot whose regeneration is final is
 * never `missing`, so a finished sampling is never added again; nothing here
 * counts a regeneration.
 */
export async function resumeRegenerations(ctx: RunContext, job: Job, payload: StepPayload, missing: readonly number[]): Promise<void> {
  if (ctx.config.grpo.maxStaleness === 0 || missing.length === 0) return;
  const started = await loadRegenerations(ctx.redis, payload.runId, payload.step, missing);
  if (started.size === 0) return;
  ctx.log(
    `step ${payload.step}: slot(s) ${[...started.keys()].join(', ')} have no final group since they were sampled again; waiting for those samplings`,
  );
  for (const [k, regeneration] of started) await addRegeneration(ctx, job, payload, k, regeneration);
  return waitForRegenerations(job, payload);
}

/** Adds a regeneration's sampling, the slot's next attempt with that attempt's own seed, as a child of the step job. */
async function addRegeneration(ctx: RunContext, job: Job, payload: StepPayload, k: number, regeneration: Regeneration): Promise<void> {
  await addOwnChild(ctx.queues, job, 'resample', {
    runId: payload.runId,
    step: payload.step,
    pairIndex: k,
    pairId: regeneration.pairId,
    attempt: regeneration.attempt,
    seed: toSamplingSeed(ctx.config.run.seed, payload.step, k, regeneration.attempt),
    weightVersion: regeneration.weightVersion,
    ...(payload.round ? { round: payload.round } : {}),
  });
}

/** Ends the step job's attempt: it waits for its new children and runs again once they are done. */
async function waitForRegenerations(job: Job, payload: StepPayload): Promise<never> {
  // Moved: BullMQ runs the job again once the new samplings are final. Not moved: they are final already, so read them now.
  if (await job.moveToWaitingChildren(job.token ?? '')) throw new WaitingChildrenError();
  throw new DifferadError(
    'ORCHESTRATOR_GROUP_MISSING',
    `step ${payload.step}: regenerated groups finished before the step waited for them; running it again`,
    { retryable: true },
  );
}
