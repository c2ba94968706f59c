import type { Job, Queue } from 'bullmq';
import type { CatalogQueues } from './catalog-queues.js';
import { toJobId } from './job-ids.js';
import type { JobName } from './job-names.js';
import { toJobsOptions } from './job-settings.js';
import { parsePayload } from './parse-payload.js';
import type { JobPayloads, ResamplePayload, RolloutPayload, ScorePayload, StepPayload } from './payloads.js';

/** A job of queue `N` as BullMQ returns it. */
export type CatalogJob<N extends JobName> = Job<JobPayloads[N], unknown, N>;

/**
 * Validates `payload` with the queue's zod schema — a bad payload throws
 * QUEUE_PAYLOAD_INVALID naming the field before anything reaches Redis — and
 * adds it under its deterministic id with the queue's retry settings. Adding
 * an id that is still retained returns the existing job instead of a second one.
 */
export async function enqueueJob<N extends JobName>(catalog: CatalogQueues, name: N, payload: JobPayloads[N]): Promise<CatalogJob<N>> {
  const data = parsePayload(name, payload);
  // BullMQ's queue generics do not resolve through a generic index; this is the queue of `name`.
  const queue: Queue = catalog.queues[name];
  const job: Job = await queue.add(name, data, toJobsOptions(catalog.settings[name], toJobId(name, data)));
  return job as CatalogJob<N>;
}

/** Enqueues a first sampling (or a re-run of one) of a pair; see {@link enqueueJob}. */
export function enqueueRollout(catalog: CatalogQueues, payload: RolloutPayload): Promise<CatalogJob<'rollout'>> {
  return enqueueJob(catalog, 'rollout', payload);
}

/** Enqueues a resample of a degenerate group (`attempt` ≥ 1); see {@link enqueueJob}. */
export function enqueueResample(catalog: CatalogQueues, payload: ResamplePayload): Promise<CatalogJob<'resample'>> {
  return enqueueJob(catalog, 'resample', payload);
}

/** Enqueues the scoring of one sampled group; see {@link enqueueJob}. */
export function enqueueScore(catalog: CatalogQueues, payload: ScorePayload): Promise<CatalogJob<'score'>> {
  return enqueueJob(catalog, 'score', payload);
}

/** Enqueues a step on its own (without rollout children; see `enqueueStepFlow` for the usual case). */
export function enqueueStep(catalog: CatalogQueues, payload: StepPayload): Promise<CatalogJob<'step'>> {
  return enqueueJob(catalog, 'step', payload);
}
