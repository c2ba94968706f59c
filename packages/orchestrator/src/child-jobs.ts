import { type CatalogQueues, type JobName, type JobPayloads, parsePayload, toJobId, toJobsOptions } from '@differad/queue';
import { DifferadError } from '@differad/core';
import type { Job, Queue } from 'bullmq';

/**
 * Adds a job as another child of the step that `sibling` belongs to, so the
 * step keeps waiting for it (a score after a rollout, a resample or a
 * replacement after a score). The id is deterministic, so a retried job adds
 * nothing twice. Must run while `sibling` is still active: the step cannot
 * have completed yet.
 */
export async function addStepChild<N extends JobName>(
  catalog: CatalogQueues,
  sibling: Job,
  name: N,
  payload: JobPayloads[N],
): Promise<void> {
  const parent = sibling.parent;
  if (!parent?.id) throw new DifferadError('ORCHESTRATOR_NO_STEP', `job ${sibling.id} has no parent step to add ${name} to`);
  const data = parsePayload(name, payload);
  const queue: Queue = catalog.queues[name];
  await queue.add(name, data, {
    ...toJobsOptions(catalog.settings[name], toJobId(name, data)),
    parent: { id: parent.id, queue: parent.queueKey },
    failParentOnFailure: true,
  });
}

/**
 * Adds a job as a child of `step` itself, a step job that is running (the
 * overlapped mode's regeneration of a stale group): the step then moves to
 * `waiting-children` and runs again once the child and what it adds are done.
 */
export async function addOwnChild<N extends JobName>(catalog: CatalogQueues, step: Job, name: N, payload: JobPayloads[N]): Promise<void> {
  if (!step.id) throw new DifferadError('ORCHESTRATOR_NO_STEP', `a step job without an id cannot take a ${name} child`);
  const data = parsePayload(name, payload);
  const queue: Queue = catalog.queues[name];
  await queue.add(name, data, {
    ...toJobsOptions(catalog.settings[name], toJobId(name, data)),
    parent: { id: step.id, queue: step.queueQualifiedName },
    failParentOnFailure: true,
  });
}
