import { z } from 'zod';
import { WeightVersionSchema } from './common.js';
import { ChatMessageSchema, TrainerImageSchema } from './forward-backward.js';

/** A completion to score: the sampled token ids and their text (the CPU trainer reads its sample back from the text). */
export const ScoredCompletionSchema = z.strictObject({
  text: z.string().max(1_000_000),
  token_ids: z.array(z.number().int().min(0)).min(1),
});

/**
 * `POST /v1/score_tokens`: read-only. The trainer's per-token log-probs of
 * given completions under its current weights at `temperature` (logits / T,
 * as forward_backward scores them), with no gradient and no change of state.
 * `differad doctor` compares them with the inference server's sampling
 * log-probs of the same tokens (docs/architecture.md §5).
 */
export const ScoreTokensRequestSchema = z
  .strictObject({
    temperature: z
      .number()
      .min(1e-3)
      .max(10)
      .describe('The sampling temperature (at least 0.001, like loss.temperature): log π is computed at logits / T.'),
    images: z.array(TrainerImageSchema).max(16).describe('Reference first, target second; by hash only when sent before.'),
    messages: z.array(ChatMessageSchema).min(1),
    prompt_token_ids: z.array(z.number().int().min(0)).nullable().describe("The server's prompt token ids; null when it sent none."),
    completions: z.array(ScoredCompletionSchema).min(1).max(64),
  })
  .refine(
    (r) =>
      r.messages.every((m) => typeof m.content === 'string' || m.content.every((p) => p.type !== 'image' || p.image < r.images.length)),
    {
      path: ['messages'],
      message: 'an image part points past the images',
    },
  )
  .describe('Score completions. Also required: every image part\'s index < len(images), reported as field "messages".');
export type ScoreTokensRequest = z.infer<typeof ScoreTokensRequestSchema>;

/** The trainer's log-probs, one list per completion in request order (null: the trainer cannot score it). */
export const ScoreTokensResponseSchema = z
  .strictObject({
    weight_version: WeightVersionSchema,
    prompt_tokens_match: z
      .boolean()
      .nullable()
      .describe("The trainer's prompt tokenization equals prompt_token_ids; null when not checked (CPU trainer, or no ids sent)."),
    logprobs: z
      .array(z.array(z.number()).nullable())
      .describe(
        "log π(token_t | prompt, tokens_<t) at the temperature, one per token id; null for a completion the trainer cannot score. The CPU trainer puts the whole sample's log-prob on the first token and 0 on the rest, as the CPU policy does.",
      ),
  })
  .describe('Per-token log-probs of the completions.');
export type ScoreTokensResponse = z.infer<typeof ScoreTokensResponseSchema>;
