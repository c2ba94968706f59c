import { z } from 'zod';
import { RunIdSchema, StepSchema } from './common.js';
import { completionFormProblem } from './packed-tokens.js';

/** A lower-case hex SHA-256 (TrainerImageSchema; also the client's hand check). */
export const SHA256_PATTERN = /^[0-9a-f]{64}$/;

/**
 * An image of a group: its SHA-256 always, its bytes the first time. A trainer
 * caches images by hash, so resends of a pair carry only the hash; an unknown
 * hash is answered with TRAINER_IMAGE_UNKNOWN (409) listing the hashes to resend.
 */
export const TrainerImageSchema = z.strictObject({
  sha256: z.string().regex(SHA256_PATTERN).describe('Lower-case hex SHA-256 of the encoded image bytes.'),
  data: z.base64().optional().describe('The encoded image (PNG/JPEG/WebP) as base64; absent when sent before.'),
  media_type: z.enum(['image/png', 'image/jpeg', 'image/webp']).optional(),
});
export type TrainerImage = z.infer<typeof TrainerImageSchema>;

/** A part of a chat message: text, or the image at `image` (index into the group's `images`). */
export const MessagePartSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('text'), text: z.string() }),
  z.strictObject({ type: z.literal('image'), image: z.number().int().min(0).describe("Index into the group's images.") }),
]);

/** A chat message exactly as it was sent to the inference server (images by index). */
export const ChatMessageSchema = z.strictObject({
  role: z.enum(['system', 'user', 'assistant']),
  content: z.union([z.string(), z.array(MessagePartSchema)]),
});
export type ChatMessage = z.infer<typeof ChatMessageSchema>;

/**
 * A completion's token ids and log-probs packed (packed-tokens.ts): the same
 * numbers as `token_ids` and `sampling_logprobs`, bit for bit, as base64 of
 * little-endian uint32 and float64. For trainers whose health lists the
 * `packed_completions` feature.
 */
export const PackedTokensSchema = z
  .strictObject({
    token_ids: z.base64().describe('The token ids as little-endian uint32, 4 bytes each, base64 (standard, padded).'),
    sampling_logprobs: z
      .base64()
      .describe('The log-probs as little-endian IEEE-754 float64, 8 bytes each, one per token id, all finite; base64 (standard, padded).'),
  })
  .describe('token_ids and sampling_logprobs packed.');

/**
 * One sampled completion. `sampling_logprobs[t]` is the inference server's
 * log-prob of `token_ids[t]` (docs/method.md §6: the trainer scores exactly the tokens
 * that were sampled), given as the two arrays or packed (`packed`, for a
 * trainer with the `packed_completions` feature), never both. The built-in
 * CPU policy samples one parameter vector per
 * completion, so it sends one token whose log-prob is the whole sample's
 * log π_sampling; the CPU trainer sums `sampling_logprobs`.
 */
export const CompletionSchema = z
  .strictObject({
    text: z.string().max(1_000_000),
    token_ids: z.array(z.number().int().min(0)).min(1).optional().describe('Required unless packed is given.'),
    sampling_logprobs: z
      .array(z.number())
      .min(1)
      .optional()
      .describe('One finite log-prob per token id, from the sampling server. Required unless packed is given.'),
    packed: PackedTokensSchema.optional().describe('token_ids and sampling_logprobs packed, instead of the two arrays.'),
    advantage: z.number().describe('A_i of docs/method.md §5.'),
    weight: z
      .number()
      .min(0)
      .max(100)
      .describe("Difficulty weight w_g of the completion's group (docs/method.md §5); 1 disables weighting."),
    truncated: z.boolean().describe('Cut by the length limit (finish_reason "length").'),
  })
  .superRefine((c, ctx) => {
    const problem = completionFormProblem(c);
    if (problem !== null) ctx.addIssue({ code: 'custom', path: [...problem.path], message: problem.message });
  })
  .describe(
    'One sampled completion. Also required (beyond JSON Schema), checked in this order: packed and the arrays not both ("packed"); without packed, token_ids ("token_ids") and sampling_logprobs ("sampling_logprobs": "required (or packed)"), len(sampling_logprobs) == len(token_ids) ("sampling_logprobs"); with packed, 4 bytes per token id and at least one ("packed.token_ids"), 8 bytes per token id ("packed.sampling_logprobs"), every log-prob finite ("packed.sampling_logprobs").',
  );
export type Completion = z.infer<typeof CompletionSchema>;

/** The G completions sampled for one image pair, and what they were sampled from. */
export const GroupSchema = z
  .strictObject({
    pair_id: z.string().max(256).optional().describe("The pair's manifest id, for logs."),
    images: z.array(TrainerImageSchema).max(16).describe('Reference first, target second (docs/method.md §7).'),
    messages: z.array(ChatMessageSchema).min(1),
    prompt_token_ids: z.array(z.number().int().min(0)).nullable().describe("The server's prompt token ids; null when it sent none."),
    completions: z.array(CompletionSchema).min(1).max(1024),
  })
  .refine(
    (g) =>
      g.messages.every((m) => typeof m.content === 'string' || m.content.every((p) => p.type !== 'image' || p.image < g.images.length)),
    {
      path: ['messages'],
      message: "an image part points past the group's images",
    },
  )
  .describe('The completions of one image pair. Also required: every image part\'s index < len(images), reported as field "messages".');
export type Group = z.infer<typeof GroupSchema>;

/**
 * The loss settings of docs/method.md §6 (the same for every micro-batch of a
 * step). `step_sequences` and `step_tokens` are the whole step's totals over
 * every micro-batch, masked completions included: a trainer divides each
 * micro-batch's summed loss by them, so the step's gradient does not depend on
 * how the step was split (docs/method.md §6.3).
 */
export const LossConfigSchema = z.strictObject({
  clip_low: z.number().min(0).max(1).describe('ε_low: ratios are clipped below at 1 − ε_low.'),
  clip_high: z.number().min(0).max(10).describe('ε_high: ratios are clipped above at 1 + ε_high.'),
  beta: z.number().min(0).max(10).describe('β: weight of the k3 KL estimate against the frozen reference policy.'),
  normalization: z
    .enum(['sequence', 'token'])
    .describe("sequence: mean over a sequence's tokens, then over the step's sequences; token: mean over all tokens of the step."),
  mask_truncated: z
    .boolean()
    .describe('Truncated completions contribute 0 to the loss (they still count in step_sequences and step_tokens).'),
  // At least 1e-3, the floor the orchestrator sends: far smaller (5e-324) overflows logits / T to inf, a NaN loss.
  temperature: z
    .number()
    .min(1e-3)
    .max(10)
    .describe('The sampling temperature (at least 0.001); log π_θ is computed at it (logits / T), so the ratio is 1 on-policy.'),
  step_sequences: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe(
      "Completions in the whole step (every micro-batch, masked ones included): the denominator of sequence normalization. Absent: the micro-batch's own count, scaled by 1 / micro_batches.",
    ),
  step_tokens: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe(
      "Completion tokens (len(token_ids)) in the whole step (every micro-batch, masked completions included): the denominator of token normalization. Absent: the micro-batch's own count, scaled by 1 / micro_batches.",
    ),
});
export type LossConfig = z.infer<typeof LossConfigSchema>;

/**
 * `POST /v1/forward_backward`: computes the loss of one micro-batch and
 * accumulates its gradient into the step. Applied once per (run, step,
 * micro_batch); a repeat answers `duplicate: true` and changes nothing.
 * With `loss.step_sequences` / `loss.step_tokens` the micro-batch's summed
 * loss is divided by the step's totals and the gradients simply add up, so
 * the step's gradient is the same for any split; without them (older
 * clients) normalization is within the micro-batch and the gradient is
 * scaled by 1 / micro_batches, exact only for equal micro-batches without
 * masked completions. The client checks it by hand first
 * (forward-backward-check.ts, held to this schema by its tests): a limit
 * changed here is changed there too.
 */
export const ForwardBackwardRequestSchema = z
  .strictObject({
    run: RunIdSchema,
    step: StepSchema,
    micro_batch: z.number().int().min(0).max(65_535).describe('Index of this micro-batch within the step.'),
    micro_batches: z.number().int().min(1).max(65_536).describe('How many micro-batches the step has; optim_step waits for all.'),
    loss: LossConfigSchema,
    prompt_mismatch: z.enum(['error', 'ignore']).optional().describe('What a prompt tokenization mismatch does; absent means "error".'),
    groups: z.array(GroupSchema).min(1).max(4096),
  })
  .refine((r) => r.micro_batch < r.micro_batches, { path: ['micro_batch'], message: 'must be less than micro_batches' })
  .describe('One micro-batch of a training step. Also required: micro_batch < micro_batches, reported as field "micro_batch".');
export type ForwardBackwardRequest = z.infer<typeof ForwardBackwardRequestSchema>;

/**
 * What one micro-batch did. A duplicate replays the first reply; when the
 * trainer no longer holds it (a step before a restart or checkpoint load)
 * the numbers are null and the counts 0.
 */
export const ForwardBackwardResponseSchema = z
  .strictObject({
    run: RunIdSchema,
    step: StepSchema,
    micro_batch: z.number().int().min(0),
    duplicate: z.boolean().describe('True when this (run, step, micro_batch) was already applied; nothing changed.'),
    loss: z
      .number()
      .nullable()
      .describe(
        "The micro-batch loss, a mean over its scored completions (a figure to report: the gradient is normalized by the step's totals when the request gives them).",
      ),
    clip_fraction: z
      .number()
      .min(0)
      .max(1)
      .nullable()
      .describe('Share of loss tokens whose clipped term is active (zero surrogate gradient).'),
    kl: z.number().nullable().describe('Mean k3 KL estimate per loss token; null when the trainer keeps no reference (β = 0).'),
    sequences: z.number().int().min(0).describe('Completions in the loss.'),
    tokens: z.number().int().min(0).describe('Tokens in the loss (the CPU policy counts one per completion).'),
    masked: z.strictObject({
      truncated: z.number().int().min(0).describe('Truncated completions left out (mask_truncated).'),
      unscorable: z.number().int().min(0).describe('Completions the trainer could not score (CPU: sampled values missing from the text).'),
    }),
    prompt_tokens_match: z
      .boolean()
      .nullable()
      .describe("The trainer's prompt tokenization equals the server's; null when not checked (CPU trainer)."),
  })
  .describe('Result of one micro-batch.');
export type ForwardBackwardResponse = z.infer<typeof ForwardBackwardResponseSchema>;
