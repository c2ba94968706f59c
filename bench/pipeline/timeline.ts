/**
 * Reads back where each step of a run spent its time, from BullMQ's own job
 * timestamps (`timestamp`, `processedOn`, `finishedOn`: epoch ms, taken with
 * Date.now() by the producer and the workers) and the no-op trainer's arrival
 * times (epoch ms, fractional). Read after the run, so it costs the run nothing.
 */
import { type CatalogQueues, type JobName, toJobId } from '@differad/queue';
import { Job, type Queue } from 'bullmq';
import type { TrainerArrival } from './noop-trainer.js';

/** The moments of one step, epoch ms. */
export interface StepTimes {
  readonly step: number;
  /** The step flow was added (the step job's timestamp). */
  readonly enqueued: number;
  /** The first rollout of the step started. */
  readonly rolloutsStarted: number;
  /** The last rollout or resample of the step finished. */
  readonly rolloutsDone: number;
  /** The last score job (or, scored inline, rollout job) of the step finished: from here on the step can run. */
  readonly scoresDone: number;
  /** The step worker took the step job. */
  readonly stepStarted: number;
  /** The first forward_backward reached the trainer (null when the trainer keeps no log). */
  readonly firstForward: number | null;
  readonly stepDone: number;
  /** Rollout and resample jobs (each one request of G completions). */
  readonly samplings: number;
}

async function load(queue: Queue, id: string): Promise<Job | null> {
  return (await Job.fromId(queue, id)) ?? null;
}

/** The id of a rollout, resample or score job: the three share one id shape, by (run, step, pair, attempt). */
function pairJobId(
  name: Extract<JobName, 'rollout' | 'resample' | 'score'>,
  runId: string,
  step: number,
  pairIndex: number,
  attempt: number,
): string {
  return toJobId(name as 'rollout', { runId, step, pairIndex, attempt, pairId: 'x', seed: 0, weightVersion: 0 });
}

/** The times of `step` of `runId`, or null when a job is missing (e.g. removed by retention). */
export async function readStepTimes(
  catalog: CatalogQueues,
  runId: string,
  step: number,
  pairCount: number,
  arrivals: readonly TrainerArrival[],
): Promise<StepTimes | null> {
  const stepJob = await load(catalog.queues.step, toJobId('step', { runId, step, pairCount, weightVersion: 0 }));
  if (!stepJob?.processedOn || !stepJob.finishedOn) return null;
  let rolloutsStarted = Infinity;
  let rolloutsDone = 0;
  let scoresDone = 0;
  let samplings = 0;
  for (let k = 0; k < pairCount; k++) {
    for (let attempt = 0; ; attempt++) {
      const sampling = await load(
        attempt === 0 ? catalog.queues.rollout : catalog.queues.resample,
        pairJobId(attempt === 0 ? 'rollout' : 'resample', runId, step, k, attempt),
      );
      if (!sampling) break;
      // A group scored inside its rollout job has no score job: it is scored when the rollout finishes.
      const score = await load(catalog.queues.score, pairJobId('score', runId, step, k, attempt));
      samplings += 1;
      if (attempt === 0) rolloutsStarted = Math.min(rolloutsStarted, sampling.processedOn ?? Infinity);
      rolloutsDone = Math.max(rolloutsDone, sampling.finishedOn ?? 0);
      scoresDone = Math.max(scoresDone, score?.finishedOn ?? sampling.finishedOn ?? 0);
    }
  }
  if (samplings < pairCount) return null;
  const forward = arrivals.find((a) => a.route === 'POST /v1/forward_backward' && a.run === runId && a.step === step);
  return {
    step,
    enqueued: stepJob.timestamp,
    rolloutsStarted,
    rolloutsDone,
    scoresDone,
    stepStarted: stepJob.processedOn,
    firstForward: forward?.at ?? null,
    stepDone: stepJob.finishedOn,
    samplings,
  };
}

/** The times of steps `from` ≤ step < `to` of a run; steps whose jobs are gone are left out. */
export async function readRunTimes(
  catalog: CatalogQueues,
  runId: string,
  range: { readonly from: number; readonly to: number; readonly pairCount: number },
  arrivals: readonly TrainerArrival[],
): Promise<StepTimes[]> {
  const times: StepTimes[] = [];
  for (let step = range.from; step < range.to; step++) {
    const t = await readStepTimes(catalog, runId, step, range.pairCount, arrivals);
    if (t) times.push(t);
  }
  return times;
}
