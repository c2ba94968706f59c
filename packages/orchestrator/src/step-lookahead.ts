import { drawStepPairs, type ManifestRecord, toSamplingSeed } from '@differad/core';
import { type CatalogQueues, enqueueStepFlow, type StepPayload, toJobId } from '@differad/queue';
import { Job, type QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ResolvedTrainConfig } from './context-factory.js';
import { clearStepGroups } from './group-store.js';

/**
 * How long a step queued ahead of the trainer waits in `delayed` once its
 * groups are in: "until promoted". The coordinator promotes it after the
 * previous step; nothing else does.
 */
export const STEP_GATE_MS = 365 * 24 * 3600 * 1000;

/** What the step flows of a run need. */
export interface StepFlowsDeps {
  readonly runId: string;
  readonly config: ResolvedTrainConfig;
  readonly records: readonly ManifestRecord[];
  readonly queues: CatalogQueues;
  /** Events of the step queue. */
  readonly events: QueueEvents;
  readonly redis: Redis;
}

/** Where the coordinator is: the weight version the trainer holds and the step round. */
export interface FlowPosition {
  readonly version: number;
  readonly round: number;
}

/**
 * The step flows of the coordinator (docs/architecture.md §4.2, §4.7): the
 * step to run now, and in the overlapped mode (`grpo.maxStaleness` = k ≥ 1)
 * the k steps after it, queued ahead with a gated parent so their rollouts
 * and scores run while the trainer works, but the trainer still gets the
 * steps in order: a gated step is released (its trainer version set, then
 * promoted once its groups are in) only when the step before it completed.
 */
export function createStepFlows(deps: StepFlowsDeps) {
  const { runId, config, records, queues } = deps;
  const stepQueue = queues.queues.step;
  const idOf = (step: number, round: number) =>
    toJobId('step', { runId, step, pairCount: 1, weightVersion: 0, ...(round ? { round } : {}) });

  /** Adds step `step`'s flow: its pairs drawn by seed, every first sampling seeded, the slots' old decisions cleared. */
  async function enqueue(step: number, at: FlowPosition, gated: boolean): Promise<void> {
    const picks = drawStepPairs(config.run.seed, step, config.grpo.pairsPerStep, records.length);
    const round = at.round ? { round: at.round } : {};
    const payload: StepPayload = { runId, step, pairCount: picks.length, weightVersion: at.version, ...round };
    await clearStepGroups(deps.redis, runId, step, picks.length);
    await enqueueStepFlow(
      queues,
      {
        step: payload,
        rollouts: picks.map((index, k) => ({
          runId,
          step,
          pairIndex: k,
          pairId: records[index]!.id,
          attempt: 0,
          seed: toSamplingSeed(config.run.seed, step, k, 0),
          weightVersion: at.version,
          ...round,
        })),
      },
      gated ? { gateMs: STEP_GATE_MS } : {},
    );
  }

  return {
    enqueue,

    /** Overlapped mode: queues the steps after `step` (up to `grpo.maxStaleness` of them, within the run) that have no job of this round yet. */
    async enqueueAhead(step: number, at: FlowPosition): Promise<void> {
      const last = Math.min(config.run.steps - 1, step + config.grpo.maxStaleness);
      for (let s = step + 1; s <= last; s++) {
        if (!(await Job.fromId(stepQueue, idOf(s, at.round)))) await enqueue(s, at, true);
      }
    },

    /**
     * Lets a step queued ahead train: its payload gets the trainer's version
     * (what the step job checks the trainer against), and it is promoted now
     * if its groups are in, else when BullMQ moves it to `delayed` (the
     * queue's `delayed` event; a retry's backoff is not a gate and is left
     * alone). Returns the function that stops listening.
     */
    async release(job: Job, version: number): Promise<() => void> {
      // The version is set before any promote below; the job is looked up again at the same time (neither waits for the other).
      const [now] = await Promise.all([
        Job.fromId(stepQueue, job.id!),
        (job.data as StepPayload).weightVersion === version
          ? undefined
          : job.updateData({ ...(job.data as StepPayload), weightVersion: version }),
      ]);
      // A promote that finds the job no longer delayed (promoted by the other path) changes nothing.
      const promote = () => job.promote().catch(() => undefined);
      const onDelayed = ({ jobId, delay }: { jobId: string; delay: number }) => {
        if (jobId === job.id && Number(delay) > Date.now() + STEP_GATE_MS / 2) void promote();
      };
      deps.events.on('delayed', onDelayed);
      // Delayed and never run: at its gate (a retry's backoff has run it before).
      if (now && !now.processedOn && (await now.getState()) === 'delayed') await promote();
      return () => deps.events.off('delayed', onDelayed);
    },

    /** After a rewind: the gated steps of the round left behind are removed (best effort; their jobs do nothing once the round moved on). */
    async discardAhead(fromStep: number, round: number): Promise<void> {
      for (let s = fromStep; s <= fromStep + config.grpo.maxStaleness; s++) {
        const job = await Job.fromId(stepQueue, idOf(s, round));
        const state = job ? await job.getState() : null;
        if (job && (state === 'delayed' || state === 'waiting-children')) await job.remove({ removeChildren: true }).catch(() => undefined);
      }
    },
  };
}
export type StepFlows = ReturnType<typeof createStepFlows>;
