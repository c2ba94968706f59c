import type { ChatInput, EngineChoice, LogprobsMode } from '@differad/inference';
import type { AnswerContext, AnswerPolicy } from './answer-policy.js';
import { createChoiceRng, writeGarbage } from './answer-policy.js';
import { toFakeTokens } from './fake-tokens.js';

/** The fake's answers to one request, before the kit writes vLLM's body. */
export interface CompletionPlan {
  readonly choices: readonly EngineChoice[];
  /** Tokens of the longest choice after the `max_tokens` cut: the decode time is set by it. */
  readonly longestTokens: number;
  readonly imageCount: number;
}

/** Inputs besides the request. */
export interface PlanContext {
  /** The request's seed, or one the server drew for a request without. */
  readonly seed: number;
  readonly policy: AnswerPolicy;
  /** Whether choice `i` gets garbage text (fault injection). */
  readonly garbage: (choice: number) => boolean;
  /** The server's `--logprobs-mode`. */
  readonly logprobsMode: LogprobsMode;
}

/** Images in message order (the first is the reference, the second the target) and all text. */
export function toAnswerContext(input: Pick<ChatInput, 'images' | 'texts'>): AnswerContext {
  return { referenceImage: input.images[0] ?? null, targetImage: input.images[1] ?? null, prompt: input.texts.join('\n') };
}

/** Writes the `n` choices of a chat request, deterministic in the seed. */
export function planChatCompletion(input: ChatInput, ctx: PlanContext): CompletionPlan {
  const context = toAnswerContext(input);
  const n = input.request.n ?? 1;
  // The fake's token log-probs are those of the sampled (processed) distribution; a raw mode reports
  // them before temperature, visibly different whenever the temperature is not 1.
  const temperature = input.request.temperature ?? 1;
  const scale = ctx.logprobsMode.startsWith('raw') && temperature > 0 ? temperature : 1;
  let longest = 0;
  const choices: EngineChoice[] = [];
  for (let i = 0; i < n; i++) {
    const rng = createChoiceRng(ctx.seed, i);
    const text = ctx.garbage(i) ? writeGarbage(rng) : ctx.policy(context, rng);
    const tokens = toFakeTokens(text, rng).map((t) => (scale === 1 ? t : { ...t, logprob: t.logprob * scale }));
    longest = Math.max(longest, Math.min(tokens.length, input.maxTokens));
    choices.push({ tokens });
  }
  return { choices, longestTokens: longest, imageCount: input.images.length };
}
