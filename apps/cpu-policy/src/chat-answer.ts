import type { ServedChatRequest } from '@differad/inference';
import { toPromptTokenIds, toTokenPieces } from '@differad/inference';
import type { PolicyAnswer } from './policy-engine.js';

/** What the chat body needs besides the answers. */
export interface ChatAnswerContext {
  readonly id: string;
  readonly model: string;
  readonly texts: readonly string[];
  readonly imageCount: number;
  readonly createdSeconds: number;
}

/**
 * The OpenAI/vLLM chat-completion body for the policy's answers. The whole
 * sample's log-probability rides on the first token and the rest carry 0, so
 * summing a completion's token log-probs gives log π(sample). `max_tokens`
 * cuts a completion like vLLM does (finish reason `length`).
 */
export function toChatCompletionBody(request: ServedChatRequest, answers: readonly PolicyAnswer[], ctx: ChatAnswerContext): Record<string, unknown> {
  const withIds = request.return_token_ids === true;
  const limit = request.max_tokens ?? request.max_completion_tokens ?? Number.POSITIVE_INFINITY;
  const promptIds = toPromptTokenIds(ctx.texts, ctx.imageCount);
  let completionTokens = 0;
  const choices = answers.map((a, index) => {
    const all = toTokenPieces(a.text);
    const pieces = all.length > limit ? all.slice(0, limit) : all;
    completionTokens += pieces.length;
    return {
      index,
      message: { role: 'assistant', content: pieces.map((p) => p.text).join(''), reasoning_content: null, tool_calls: [] },
      logprobs: request.logprobs
        ? { content: pieces.map((p, k) => ({ token: p.text, logprob: k === 0 ? a.logprob : 0, bytes: [...Buffer.from(p.text)], top_logprobs: [] })) }
        : null,
      finish_reason: pieces.length < all.length ? 'length' : 'stop',
      stop_reason: null,
      token_ids: withIds ? pieces.map((p) => p.id) : null,
    };
  });
  return {
    id: `chatcmpl-${ctx.id}`,
    object: 'chat.completion',
    created: ctx.createdSeconds,
    model: ctx.model,
    choices,
    usage: { prompt_tokens: promptIds.length, completion_tokens: completionTokens, total_tokens: promptIds.length + completionTokens },
    prompt_token_ids: withIds ? promptIds : null,
  };
}
