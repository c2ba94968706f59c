import { z } from 'zod';

// Payloads are plain `z.object` (unknown keys stripped, not refused) so that a
// producer one release ahead can add a field without failing older workers
// mid-upgrade. Jobs carry ids and numbers only, except `score`, which may
// carry its completions inline; big data stays in Redis keys or on disk.

/**
 * A run id: letters, digits, '_' and '-', at most 64 characters. It is part of
 * BullMQ job ids (where ':' is reserved and '.' separates fields) and of Redis
 * keys, so nothing else is allowed.
 */
export const RunIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, "a run id is 1-64 letters, digits, '_' or '-', starting with a letter or digit");

const StepSchema = z.int().min(0);
const PairIndexSchema = z.int().min(0);
const VersionSchema = z.int().min(0);
/**
 * The step round (absent: 0): it goes up each time a run's steps are rerun
 * (a failed step retried by `--resume`, steps replayed after the trainer was
 * put back on a checkpoint), so the rerun's jobs get ids of their own instead
 * of finding the old ones.
 */
const RoundSchema = z.int().min(0).optional();
/** A 32-bit unsigned seed: what vLLM's `seed` and the core RNG accept. */
const SeedSchema = z.int().min(0).max(0xffff_ffff);

/**
 * One group sampling: request `n = G` completions for pair `pairIndex` of step
 * `step`. `attempt` 0 is the first sampling, 1.. are resamples of a degenerate
 * group; `seed` makes the sampling reproducible; `weightVersion` is the policy
 * version the step samples from (a server on another version is skipped).
 */
export const RolloutPayloadSchema = z.object({
  runId: RunIdSchema,
  step: StepSchema,
  pairIndex: PairIndexSchema,
  /** The manifest record id of the pair. */
  pairId: z.string().min(1).max(256),
  attempt: z.int().min(0),
  seed: SeedSchema,
  weightVersion: VersionSchema,
  round: RoundSchema,
});
/** The payload of a `rollout` job. */
export type RolloutPayload = z.infer<typeof RolloutPayloadSchema>;

/** A resample: a rollout of the same pair after a degenerate group, so `attempt` ≥ 1. */
export const ResamplePayloadSchema = RolloutPayloadSchema.extend({
  attempt: z.int().min(1),
});
/** The payload of a `resample` job. */
export type ResamplePayload = z.infer<typeof ResamplePayloadSchema>;

/** One sampled completion, as the scorer and the trainer need it. */
export const CompletionSchema = z
  .object({
    text: z.string(),
    tokenIds: z.array(z.int().min(0)),
    /** The sampling log-prob of each token in `tokenIds`. */
    logprobs: z.array(z.number().max(0)),
    /** As the server said it: 'stop', 'length', … */
    finishReason: z.string().min(1),
    server: z.string().min(1),
    weightVersion: VersionSchema,
  })
  .refine((c) => c.logprobs.length === c.tokenIds.length, {
    message: 'logprobs must have one entry per token id',
    path: ['logprobs'],
  });
/** One completion carried inline by a `score` job. */
export type Completion = z.infer<typeof CompletionSchema>;

/**
 * Where a score job finds its group: a Redis key the rollout wrote (the usual
 * case, keeps job payloads small) or the completions inline.
 */
export const CompletionsSourceSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('key'), key: z.string().min(1) }),
  z.object({ kind: z.literal('inline'), items: z.array(CompletionSchema).min(1) }),
]);
/** The `completions` field of a score payload. */
export type CompletionsSource = z.infer<typeof CompletionsSourceSchema>;

/** Score one sampled group: parse, rewards, advantages, difficulty weight, resample decision. */
export const ScorePayloadSchema = z.object({
  runId: RunIdSchema,
  step: StepSchema,
  pairIndex: PairIndexSchema,
  pairId: z.string().min(1).max(256),
  attempt: z.int().min(0),
  weightVersion: VersionSchema,
  completions: CompletionsSourceSchema,
  round: RoundSchema,
});
/** The payload of a `score` job. */
export type ScorePayload = z.infer<typeof ScorePayloadSchema>;

/**
 * The step: once all `pairCount` groups are final, train on them (micro-batches,
 * then `optim_step`, weight sync and the held-out evaluation when due).
 * `weightVersion` is the version the groups were sampled from.
 */
export const StepPayloadSchema = z.object({
  runId: RunIdSchema,
  step: StepSchema,
  pairCount: z.int().min(1),
  weightVersion: VersionSchema,
  round: RoundSchema,
});
/** The payload of a `step` job. */
export type StepPayload = z.infer<typeof StepPayloadSchema>;

/** The payload schema of each queue. */
export const PAYLOAD_SCHEMAS = {
  rollout: RolloutPayloadSchema,
  score: ScorePayloadSchema,
  resample: ResamplePayloadSchema,
  step: StepPayloadSchema,
} as const;

/** The payload type of each queue. */
export interface JobPayloads {
  rollout: RolloutPayload;
  score: ScorePayload;
  resample: ResamplePayload;
  step: StepPayload;
}
