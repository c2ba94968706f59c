import { FlowProducer, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { toBullmqConnection } from '../connection/bullmq-connection.js';
import { JOB_NAMES, toQueueName, type JobName } from './job-names.js';
import { resolveJobSettings, type JobSettings, type JobSettingsOverrides } from './job-settings.js';
import type { JobPayloads } from './payloads.js';

/** Where the catalog's queues live. Producers and workers of one deployment must agree on both fields. */
export interface CatalogOptions {
  /** Kebab-case prefix of every queue name (`prod` → `prod-rollout`); none by default. */
  readonly namespace?: string;
  /** BullMQ's Redis key prefix (BullMQ's own default is `bull`). */
  readonly prefix?: string;
}

/** The BullMQ queue of each job name, typed by its payload. */
export type CatalogQueueMap = { readonly [N in JobName]: Queue<JobPayloads[N], unknown, N> };

/** The producer side of the catalog: one queue per job name and a flow producer, on one connection. */
export interface CatalogQueues {
  readonly queues: CatalogQueueMap;
  readonly flows: FlowProducer;
  readonly settings: { readonly [N in JobName]: JobSettings };
  /** The BullMQ queue name of each job name. */
  readonly names: { readonly [N in JobName]: string };
  readonly prefix: string | undefined;
  /** Closes the queues and the flow producer; the connection stays the caller's. */
  close(): Promise<void>;
}

/** Options of {@link createCatalogQueues}. */
export interface CatalogQueuesOptions extends CatalogOptions {
  /** Retry/backoff/retention overrides per queue, e.g. from the run config. */
  readonly settings?: JobSettingsOverrides;
}

/**
 * Opens every catalog queue on `connection` — a producer connection from
 * `createRedisConnection(url, 'producer')`, which fails fast while Redis is
 * down instead of queueing commands. The caller keeps owning the connection.
 */
export function createCatalogQueues(connection: Redis, options: CatalogQueuesOptions = {}): CatalogQueues {
  const names = toQueueNames(options.namespace);
  const base = { connection: toBullmqConnection(connection), ...(options.prefix === undefined ? {} : { prefix: options.prefix }) };
  const queues: CatalogQueueMap = {
    rollout: new Queue<JobPayloads['rollout'], unknown, 'rollout'>(names.rollout, base),
    score: new Queue<JobPayloads['score'], unknown, 'score'>(names.score, base),
    resample: new Queue<JobPayloads['resample'], unknown, 'resample'>(names.resample, base),
    step: new Queue<JobPayloads['step'], unknown, 'step'>(names.step, base),
  };
  const flows = new FlowProducer(base);
  return {
    queues,
    flows,
    names,
    prefix: options.prefix,
    settings: resolveJobSettings(options.settings),
    async close() {
      await Promise.all([...JOB_NAMES.map((n) => queues[n].close()), flows.close()]);
    },
  };
}

/** The BullMQ queue name of every job name in `namespace`. */
export function toQueueNames(namespace?: string): { readonly [N in JobName]: string } {
  return {
    rollout: toQueueName('rollout', namespace),
    score: toQueueName('score', namespace),
    resample: toQueueName('resample', namespace),
    step: toQueueName('step', namespace),
  };
}
