import { DifferadError } from '@differad/core';
import type { FlowChildJob, JobNode } from 'bullmq';
import { QUEUE_ERROR_CODES } from '../errors/queue-errors.js';
import type { CatalogQueues } from './catalog-queues.js';
import { toJobId } from './job-ids.js';
import { toJobsOptions } from './job-settings.js';
import { parsePayload } from './parse-payload.js';
import type { RolloutPayload, StepPayload } from './payloads.js';

/** A step and the rollouts it waits for. */
export interface StepFlowInput {
  readonly step: StepPayload;
  /** One first sampling per pair of the step; `rollouts.length` must equal `step.pairCount`. */
  readonly rollouts: readonly RolloutPayload[];
}

/** How a step flow is added. */
export interface StepFlowOptions {
  /**
   * A step queued ahead of the trainer (the overlapped mode): once its
   * groups are in, the parent waits this long in `delayed` instead of
   * running, until the coordinator promotes it after the previous step
   * (BullMQ's moveParentToWait reads the parent's `delay`). Absent: it runs
   * as soon as its groups are in.
   */
  readonly gateMs?: number;
}

/**
 * Adds a step as a BullMQ flow (docs/architecture.md §4.2): the
 * parent `step` job waits in `waiting-children` until every `rollout` child has
 * completed, so the step worker starts only when all groups are in (it reads
 * them with `job.getChildrenValues()`). A child that fails for good fails the
 * parent too, so a broken step is visible instead of waiting forever.
 * Everything is validated first; nothing reaches Redis when any payload is bad
 * or a rollout belongs to another run, step or pair slot.
 */
export async function enqueueStepFlow(catalog: CatalogQueues, input: StepFlowInput, options: StepFlowOptions = {}): Promise<JobNode> {
  const step = parsePayload('step', input.step, 'step');
  const rollouts = input.rollouts.map((r, i) => parsePayload('rollout', r, `rollouts.${i}`));
  checkRollouts(step, rollouts);
  const prefix = catalog.prefix === undefined ? {} : { prefix: catalog.prefix };
  const children: FlowChildJob[] = rollouts.map((data) => ({
    name: 'rollout',
    queueName: catalog.names.rollout,
    data,
    ...prefix,
    opts: { ...toJobsOptions(catalog.settings.rollout, toJobId('rollout', data)), failParentOnFailure: true },
  }));
  return catalog.flows.add({
    name: 'step',
    queueName: catalog.names.step,
    data: step,
    ...prefix,
    opts: { ...toJobsOptions(catalog.settings.step, toJobId('step', step)), ...(options.gateMs ? { delay: options.gateMs } : {}) },
    children,
  });
}

function checkRollouts(step: StepPayload, rollouts: readonly RolloutPayload[]): void {
  const fail = (field: string, message: string): never => {
    throw new DifferadError(QUEUE_ERROR_CODES.PAYLOAD_INVALID, `step payload invalid: ${field}: ${message}`, {
      details: { queue: 'step', field, problems: [{ field, message }] },
    });
  };
  if (rollouts.length !== step.pairCount) {
    fail('rollouts', `expected ${step.pairCount} rollouts (step.pairCount), got ${rollouts.length}`);
  }
  const seen = new Set<number>();
  rollouts.forEach((r, i) => {
    if (r.runId !== step.runId) fail(`rollouts.${i}.runId`, `expected ${step.runId}, got ${r.runId}`);
    if (r.step !== step.step) fail(`rollouts.${i}.step`, `expected ${step.step}, got ${r.step}`);
    if (r.weightVersion !== step.weightVersion) {
      fail(`rollouts.${i}.weightVersion`, `expected ${step.weightVersion}, got ${r.weightVersion}`);
    }
    if (r.pairIndex >= step.pairCount) fail(`rollouts.${i}.pairIndex`, `must be below step.pairCount (${step.pairCount})`);
    if (seen.has(r.pairIndex)) fail(`rollouts.${i}.pairIndex`, `pair index ${r.pairIndex} appears twice`);
    seen.add(r.pairIndex);
  });
}
