import { MODEL_FAMILIES, FRAMES } from '@differad/core';
import { z } from 'zod';
import { FrameConfigSchema, GrpoConfigSchema, RewardConfigSchema, SamplingConfigSchema } from './schemas.js';

const RunIdText = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, "a run id is 1-64 letters, digits, '_' or '-', starting with a letter or digit");

/**
 * Deadline of one inference request attempt (ms): a request that has not
 * answered by then is given up and sent to another server (docs/architecture.md §7).
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 120_000;
const requestTimeoutMs = () => z.number().int().min(100).max(3_600_000).default(DEFAULT_REQUEST_TIMEOUT_MS);

/**
 * Job lock duration of the training workers (ms). A worker renews its locks
 * every half of it; a job whose worker died is taken over once its lock has
 * expired, at the next stalled-job check (also every half of it): within about
 * 1.5× this after a crash (docs/architecture.md §4.3).
 */
export const DEFAULT_LOCK_MS = 5_000;
/** How long `differad train` waits for a lost Redis connection to come back before it stops the run, resumable (ms). */
export const DEFAULT_REDIS_GRACE_MS = 10_000;

/**
 * Inference servers that must hold the new weights after a step's weight
 * sync; with fewer the step fails, resumably. A server that is down or fails
 * its sync is taken out of the rollout pool meanwhile (docs/architecture.md §6.1).
 */
const minServers = () => z.number().int().min(1).max(1024).default(1);

/** Where completions come from: the built-in CPU policy servers, or OpenAI-compatible endpoints (vLLM). */
export const PolicyConfigSchema = z
  .discriminatedUnion('kind', [
    z.strictObject({
      kind: z.literal('cpu'),
      /** CPU policy servers started by `differad train` (each one a process-local HTTP server). */
      servers: z.number().int().min(1).max(16).default(2),
      /** Optional starting policy file (GaussianPolicy JSON). */
      init: z.string().min(1).optional(),
      /** Deadline of one request attempt, ms (then it goes to another server). */
      requestTimeoutMs: requestTimeoutMs(),
      /** Servers that must hold the new weights after a step's sync (see {@link minServers}). */
      minServers: minServers(),
    }),
    z.strictObject({
      kind: z.literal('endpoints'),
      endpoints: z.array(z.url({ protocol: /^https?$/ })).min(1),
      model: z.string().min(1),
      family: z.enum(MODEL_FAMILIES).default('differad'),
      frame: z.enum(FRAMES).default('norm1000'),
      /** Weight-sync backend the servers were started with. */
      syncBackend: z.enum(['disk', 'nccl', 'none']).default('disk'),
      /** Deadline of one request attempt, ms (then it goes to another server). */
      requestTimeoutMs: requestTimeoutMs(),
      /** Servers that must hold the new weights after a step's sync (see {@link minServers}). */
      minServers: minServers(),
    }),
  ])
  .refine((p) => p.minServers <= (p.kind === 'cpu' ? p.servers : p.endpoints.length), {
    path: ['minServers'],
    message: 'policy.minServers cannot exceed the number of inference servers (policy.servers or policy.endpoints)',
  });
export type PolicyConfig = z.infer<typeof PolicyConfigSchema>;

/** Which trainer applies the updates: the built-in CPU trainer, or a trainer service at a URL. */
export const TrainerConfigSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('cpu') }),
  z.strictObject({ kind: z.literal('url'), url: z.url({ protocol: /^https?$/ }) }),
]);
export type TrainerConfig = z.infer<typeof TrainerConfigSchema>;

/**
 * Optimizer settings. `lr` and `maxGradNorm` left out get the defaults of the
 * run's trainer ({@link OPTIM_DEFAULTS}), filled in when the config is parsed.
 */
export const OptimConfigSchema = z.strictObject({
  lr: z.number().positive().max(10).optional(),
  /** Clip the step's gradient to this global norm before the optimizer step; null: never clip. */
  maxGradNorm: z.number().positive().max(1e6).nullable().optional(),
  /** Groups per forward_backward call; the step's gradient does not depend on it (docs/method.md §6.3). */
  microBatchGroups: z.number().int().min(1).max(256).default(4),
});
export type OptimConfig = z.infer<typeof OptimConfigSchema>;

/** Optimizer settings with every default filled in. */
export interface ResolvedOptimConfig {
  readonly lr: number;
  readonly maxGradNorm: number | null;
  readonly microBatchGroups: number;
}

/**
 * Defaults by trainer kind. A GPU trainer (`url`) trains a real VLM: the
 * paper's learning rate 1e-6 and the research code's max-grad-norm 1.0. The
 * CPU trainer steps each of its Gaussian policy's means by about lr × the
 * parameter's range (computePolicyStepScale), for which 0.01 without
 * clipping is the tuned setting (bench/learning).
 */
export const OPTIM_DEFAULTS: Readonly<Record<TrainerConfig['kind'], { readonly lr: number; readonly maxGradNorm: number | null }>> =
  Object.freeze({
    cpu: Object.freeze({ lr: 0.01, maxGradNorm: null }),
    url: Object.freeze({ lr: 1e-6, maxGradNorm: 1.0 }),
  });

/** `optim` with the trainer's defaults for what it leaves out; explicit values (null included) win. */
export function resolveOptimConfig(optim: OptimConfig, trainer: TrainerConfig): ResolvedOptimConfig {
  const defaults = OPTIM_DEFAULTS[trainer.kind];
  return {
    lr: optim.lr ?? defaults.lr,
    maxGradNorm: optim.maxGradNorm === undefined ? defaults.maxGradNorm : optim.maxGradNorm,
    microBatchGroups: optim.microBatchGroups,
  };
}

/** A whole training run (`differad train --config FILE.yaml`, and `POST /v1/runs`). */
export const TrainConfigSchema = z
  .strictObject({
    run: z
      .strictObject({
        /** Default: made from the start time. */
        id: RunIdText.optional(),
        steps: z.number().int().min(1).max(1_000_000).default(30),
        seed: z.number().int().min(0).max(0xffff_ffff).default(1),
        /** Per-run folders (metrics.jsonl, checkpoints, weights) go under this folder. */
        runsDir: z.string().min(1).default('runs'),
        /** Save a trainer checkpoint every N steps (what `--resume` restarts from); 0 disables. */
        checkpointEvery: z.number().int().min(0).default(1),
        /** Job lock duration of this run's in-process workers, ms (`--lock-ms` overrides it): see {@link DEFAULT_LOCK_MS}. */
        lockMs: z.number().int().min(1_000).max(600_000).default(DEFAULT_LOCK_MS),
        /** A Redis connection down longer than this (ms) stops the run with a resumable error instead of waiting forever. */
        redisGraceMs: z.number().int().min(1_000).max(3_600_000).default(DEFAULT_REDIS_GRACE_MS),
      })
      .prefault({}),
    data: z.strictObject({
      /** Training pairs (a differad manifest). */
      train: z.string().min(1),
      /** Held-out pairs evaluated every `evalEvery` steps. */
      eval: z.string().min(1).optional(),
      evalEvery: z.number().int().min(1).default(10),
      /** Held-out samples per evaluation (the first N of the manifest). */
      evalLimit: z.number().int().min(1).default(64),
    }),
    policy: PolicyConfigSchema.default({ kind: 'cpu', servers: 2, requestTimeoutMs: DEFAULT_REQUEST_TIMEOUT_MS, minServers: 1 }),
    trainer: TrainerConfigSchema.default({ kind: 'cpu' }),
    optim: OptimConfigSchema.prefault({}),
    reward: RewardConfigSchema.prefault({}),
    grpo: GrpoConfigSchema.prefault({}),
    sampling: SamplingConfigSchema.prefault({}),
    resize: FrameConfigSchema.prefault({}),
    prompt: z
      .strictObject({
        /** A JSON file: an array of instruction strings drawn from per pair. */
        pool: z.string().min(1).optional(),
      })
      .prefault({}),
  })
  // Defaults that depend on another section: filled after parsing, so the stored config shows them.
  .overwrite((config) => ({ ...config, optim: resolveOptimConfig(config.optim, config.trainer) }));
export type TrainConfig = z.infer<typeof TrainConfigSchema>;
