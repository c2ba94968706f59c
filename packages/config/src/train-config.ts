import { MODEL_FAMILIES, FRAMES } from '@differad/core';
import { z } from 'zod';
import { FrameConfigSchema, GrpoConfigSchema, RewardConfigSchema, SamplingConfigSchema } from './schemas.js';

const RunIdText = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, "a run id is 1-64 letters, digits, '_' or '-', starting with a letter or digit");

/** Where completions come from: the built-in CPU policy servers, or OpenAI-compatible endpoints (vLLM). */
export const PolicyConfigSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('cpu'),
    /** CPU policy servers started by `differad train` (each one a process-local HTTP server). */
    servers: z.number().int().min(1).max(16).default(2),
    /** Optional starting policy file (GaussianPolicy JSON). */
    init: z.string().min(1).optional(),
  }),
  z.strictObject({
    kind: z.literal('endpoints'),
    endpoints: z.array(z.url({ protocol: /^https?$/ })).min(1),
    model: z.string().min(1),
    family: z.enum(MODEL_FAMILIES).default('differad'),
    frame: z.enum(FRAMES).default('norm1000'),
    /** Weight-sync backend the servers were started with. */
    syncBackend: z.enum(['disk', 'nccl', 'none']).default('disk'),
  }),
]);
export type PolicyConfig = z.infer<typeof PolicyConfigSchema>;

/** Which trainer applies the updates: the built-in CPU trainer, or a trainer service at a URL. */
export const TrainerConfigSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('cpu') }),
  z.strictObject({ kind: z.literal('url'), url: z.url({ protocol: /^https?$/ }) }),
]);
export type TrainerConfig = z.infer<typeof TrainerConfigSchema>;

/** A whole training run (`differad train --config FILE.yaml`, and `POST /v1/runs`). */
export const TrainConfigSchema = z.strictObject({
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
  policy: PolicyConfigSchema.default({ kind: 'cpu', servers: 2 }),
  trainer: TrainerConfigSchema.default({ kind: 'cpu' }),
  optim: z.strictObject({ lr: z.number().positive().max(10).default(0.05), microBatchGroups: z.number().int().min(1).max(256).default(4) }).prefault({}),
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
});
export type TrainConfig = z.infer<typeof TrainConfigSchema>;
