import { DifferadError } from '@differad/core';
import { QUEUE_ERROR_CODES } from '../errors/queue-errors.js';

/**
 * Every queue of the training loop, in the order a step flows through them
 * (docs/architecture.md §4): rollout → score → (resample) → step. Weight sync
 * and held-out evaluation run inside the step job, so they have no queue. The
 * names are the BullMQ queue names: kebab-case, no ':' (BullMQ uses ':' to
 * build its Redis keys).
 */
export const JOB_NAMES = ['rollout', 'score', 'resample', 'step'] as const;

/** One of {@link JOB_NAMES}. */
export type JobName = (typeof JOB_NAMES)[number];

const NAMESPACE_PATTERN = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** True when `value` is one of {@link JOB_NAMES}. */
export function isJobName(value: string): value is JobName {
  return (JOB_NAMES as readonly string[]).includes(value);
}

/**
 * The BullMQ queue name of `name` in a deployment `namespace` (kebab-case,
 * e.g. `prod-a` → `prod-a-rollout`); the bare name when there is none. Two
 * deployments sharing one Redis keep apart by namespace; tests use one per test.
 */
export function toQueueName(name: JobName, namespace?: string): string {
  if (namespace === undefined || namespace === '') return name;
  if (!NAMESPACE_PATTERN.test(namespace)) {
    throw new DifferadError(
      QUEUE_ERROR_CODES.NAMESPACE_INVALID,
      `queue namespace must be kebab-case (a-z, 0-9, '-'), got ${JSON.stringify(namespace)}`,
      {
        details: { field: 'namespace' },
      },
    );
  }
  return `${namespace}-${name}`;
}
