import { ADVANTAGE_MODES, DEFAULT_RESIZE, DEFAULT_REWARD_OPTIONS, EXHAUSTED_POLICIES, LOC_REWARD_VARIANTS } from '@differad/core';
import { z } from 'zod';

const d = DEFAULT_REWARD_OPTIONS;
const unit = () => z.number().min(0).max(1);

/** Reward settings (docs/method.md §4); defaults come from @differad/core. */
export const RewardConfigSchema = z.strictObject({
  variant: z.enum(LOC_REWARD_VARIANTS).default(d.variant),
  alpha: unit().default(d.alpha),
  lambda: unit().default(d.lambda),
  tau: z.number().gt(0).max(1).default(d.tau),
  kappa: unit().default(d.kappa),
  epsilon: z.number().positive().max(1e-2).default(d.epsilon),
  formatWeight: z.number().min(0).max(100).default(d.formatWeight),
  locWeight: z.number().min(0).max(100).default(d.locWeight),
});
export type RewardConfig = z.infer<typeof RewardConfigSchema>;

/** GRPO settings (docs/method.md §5–§6). */
export const GrpoConfigSchema = z.strictObject({
  /** G: completions sampled per pair in one request. */
  groupSize: z.number().int().min(2).max(64).default(8),
  /** B: pairs per training step. */
  pairsPerStep: z.number().int().min(1).max(4096).default(8),
  advantage: z.enum(ADVANTAGE_MODES).default('unbiased'),
  advantageEpsilon: z.number().positive().max(1).default(1e-4),
  /** std(R_loc) below this marks a degenerate group. */
  degenerateStd: z.number().positive().max(1).default(1e-6),
  /** Extra sampling rounds for a degenerate group. */
  maxResamples: z.number().int().min(0).max(16).default(2),
  onExhausted: z.enum(EXHAUSTED_POLICIES).default('keep'),
  difficultyWeighting: z.boolean().default(true),
  /** Difficulty weight from the group's first sampling (research code) or its final one. */
  weightFrom: z.enum(['first', 'final']).default('first'),
  clipLow: z.number().min(0).max(1).default(0.2),
  clipHigh: z.number().min(0).max(10).default(0.2),
  /** KL coefficient β (k3 estimator against a frozen reference when > 0). */
  beta: z.number().min(0).max(10).default(0),
  lossNormalization: z.enum(['sequence', 'token']).default('sequence'),
  maskTruncated: z.boolean().default(true),
  /**
   * 0: the on-policy loop (a step's rollouts start once the previous step's
   * weights are synced). k ≥ 1: the overlapped mode, rollouts run up to k
   * steps ahead of the trainer, and a group more than k weight versions
   * older than the trainer when its step trains is sampled again
   * (docs/method.md §6.9, docs/architecture.md §4.7).
   */
  maxStaleness: z.number().int().min(0).max(8).default(0),
});
export type GrpoConfig = z.infer<typeof GrpoConfigSchema>;

/** Sampling parameters sent explicitly with every request (docs/method.md §7). */
export const SamplingConfigSchema = z.strictObject({
  temperature: z.number().min(0).max(2).default(0.9),
  topP: z.number().gt(0).max(1).default(1),
  /** -1 disables top-k, as vLLM expects. */
  topK: z.number().int().min(-1).default(-1),
  maxTokens: z.number().int().min(1).max(32_768).default(256),
});
export type SamplingConfig = z.infer<typeof SamplingConfigSchema>;

/** The model frame settings (docs/method.md §2). */
export const FrameConfigSchema = z
  .strictObject({
    factor: z.number().int().min(1).max(1024).default(DEFAULT_RESIZE.factor),
    minPixels: z.number().int().positive().default(DEFAULT_RESIZE.minPixels),
    maxPixels: z.number().int().positive().default(DEFAULT_RESIZE.maxPixels),
  })
  .refine((f) => f.minPixels <= f.maxPixels, { message: 'minPixels must not exceed maxPixels', path: ['minPixels'] });
export type FrameConfig = z.infer<typeof FrameConfigSchema>;

/** Everything `loadConfig` returns. Later units add their own sections. */
export const DifferadConfigSchema = z.strictObject({
  reward: RewardConfigSchema.prefault({}),
  grpo: GrpoConfigSchema.prefault({}),
  sampling: SamplingConfigSchema.prefault({}),
  resize: FrameConfigSchema.prefault({}),
});
export type DifferadConfig = z.infer<typeof DifferadConfigSchema>;
