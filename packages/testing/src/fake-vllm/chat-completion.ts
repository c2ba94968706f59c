import type { AnswerContext, AnswerPolicy } from './answer-policy.js';
import { createChoiceRng, writeGarbage } from './answer-policy.js';
import { type LogprobsMode, type ServedChatRequest, toChatInputs, toPromptTokenIds } from '@differad/inference';
import { toFakeTokens } from './fake-tokens.js';

/** What the server decided for one request before it is answered. */
export interface CompletionPlan {
  /** The response body (JSON-serializable). */
  readonly body: Record<string, unknown>;
  /** Tokens of the longest choice: the decode time is set by it. */
  readonly longestTokens: number;
  readonly imageCount: number;
  readonly n: number;
}

/** Inputs besides the request. */
export interface PlanContext {
  readonly model: string;
  readonly requestId: string;
  /** The request's seed, or one the server drew for a request without. */
  readonly seed: number;
  readonly policy: AnswerPolicy;
  readonly maxModelLen: number;
  /** Whether choice `i` gets garbage text (fault injection). */
  readonly garbage: (choice: number) => boolean;
  /** Break the schema on purpose (fault injection). */
  readonly malformed: boolean;
  readonly createdSeconds: number;
  /** The server's `--logprobs-mode`. */
  readonly logprobsMode: LogprobsMode;
}

/** Images in message order (the first is the reference, the second the target) and all text. */
export function toAnswerContext(request: ServedChatRequest): { context: AnswerContext; imageCount: number; texts: string[] } {
  const { images, texts } = toChatInputs(request);
  return {
    context: { referenceImage: images[0] ?? null, targetImage: images[1] ?? null, prompt: texts.join('\n') },
    imageCount: images.length,
    texts,
  };
}

/** Writes the `n` choices of a chat request in vLLM's response shape, deterministic in the seed. */
export function planChatCompletion(request: ServedChatRequest, ctx: PlanContext): CompletionPlan {
  const { context, imageCount, texts } = toAnswerContext(request);
  const n = request.n ?? 1;
  const withIds = request.return_token_ids === true;
  const promptIds = toPromptTokenIds(texts, imageCount);
  // The fake's token log-probs are those of the sampled (processed) distribution; a raw mode reports
  // them before temperature, visibly different whenever the temperature is not 1.
  const temperature = request.temperature ?? 1;
  const reported = (logprob: number) => (ctx.logprobsMode.startsWith('raw') && temperature > 0 ? logprob * temperature : logprob);
  const cap = request.max_tokens ?? request.max_completion_tokens ?? Math.max(1, ctx.maxModelLen - promptIds.length);
  let longest = 0;
  let completionTokens = 0;
  const choices = [];
  for (let i = 0; i < n; i++) {
    const rng = createChoiceRng(ctx.seed, i);
    const full = ctx.garbage(i) ? writeGarbage(rng) : ctx.policy(context, rng);
    const all = toFakeTokens(full, rng);
    const tokens = all.length > cap ? all.slice(0, cap) : all;
    longest = Math.max(longest, tokens.length);
    completionTokens += tokens.length;
    choices.push({
      index: i,
      message: { role: 'assistant', content: tokens.map((t) => t.text).join(''), reasoning_content: null, tool_calls: [] },
      logprobs: request.logprobs
        ? { content: tokens.map((t) => ({ token: t.text, logprob: reported(t.logprob), bytes: [...Buffer.from(t.text)], top_logprobs: [] })) }
        : null,
      finish_reason: all.length > cap ? 'length' : 'stop',
      stop_reason: null,
      token_ids: withIds ? tokens.map((t) => t.id) : null,
    });
  }
  if (ctx.malformed && choices[0]) delete (choices[0] as { message?: unknown }).message;
  const body = {
    id: `chatcmpl-${ctx.requestId}`,
    object: 'chat.completion',
    created: ctx.createdSeconds,
    model: ctx.model,
    choices,
    usage: { prompt_tokens: promptIds.length, completion_tokens: completionTokens, total_tokens: promptIds.length + completionTokens, prompt_tokens_details: null },
    prompt_logprobs: null,
    prompt_token_ids: withIds ? promptIds : null,
    kv_transfer_params: null,
  };
  return { body, longestTokens: longest, imageCount, n };
}
