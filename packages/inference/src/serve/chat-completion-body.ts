import type { ServedChatRequest } from './served-chat-request.js';

/** One generated token: its text, id and the log-prob the server reports for it. */
export interface EngineToken {
  readonly text: string;
  readonly id: number;
  readonly logprob: number;
}

/** One choice as an answer engine wrote it, before `max_tokens` cuts it. */
export interface EngineChoice {
  readonly tokens: readonly EngineToken[];
}

/** What the body needs besides the request and the choices. */
export interface ChatBodyContext {
  /** The completion's name: `chatcmpl-<id>`. */
  readonly id: string;
  readonly model: string;
  readonly promptTokenIds: readonly number[];
  /** The request's `max_tokens` (or vLLM's default: what the context leaves). */
  readonly maxTokens: number;
  readonly createdSeconds: number;
}

/** A token's UTF-8 bytes as vLLM lists them (`list(token.encode("utf-8"))`); ASCII, nearly every token, without a Buffer. */
export function toUtf8Bytes(text: string): number[] {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) return [...Buffer.from(text)];
    bytes.push(c);
  }
  return bytes;
}

/** The cut of each choice at `maxTokens`, and whether it was cut. */
export function toCutChoices(choices: readonly EngineChoice[], maxTokens: number): { tokens: readonly EngineToken[]; cut: boolean }[] {
  return choices.map((c) =>
    c.tokens.length > maxTokens ? { tokens: c.tokens.slice(0, maxTokens), cut: true } : { tokens: c.tokens, cut: false },
  );
}

/**
 * vLLM 0.32.0's `ChatCompletionResponse` (entrypoints/openai/chat_completion/protocol.py), every field
 * as `model_dump()` writes it: `ChatMessage` without `tool_calls` when empty, `token_ids` and
 * `prompt_token_ids` only with `return_token_ids`, `logprobs` only with `logprobs`, a choice cut at
 * `max_tokens` finishing with `length`.
 */
export function toChatCompletionBody(
  request: ServedChatRequest,
  choices: readonly EngineChoice[],
  ctx: ChatBodyContext,
): Record<string, unknown> {
  const withIds = request.return_token_ids === true;
  let completionTokens = 0;
  const out = toCutChoices(choices, ctx.maxTokens).map(({ tokens, cut }, index) => {
    completionTokens += tokens.length;
    return {
      index,
      message: {
        role: 'assistant',
        content: tokens.map((t) => t.text).join(''),
        refusal: null,
        annotations: null,
        audio: null,
        function_call: null,
        reasoning: null,
      },
      logprobs: request.logprobs
        ? { content: tokens.map((t) => ({ token: t.text, logprob: t.logprob, bytes: toUtf8Bytes(t.text), top_logprobs: [] })) }
        : null,
      finish_reason: cut ? 'length' : 'stop',
      stop_reason: null,
      token_ids: withIds ? tokens.map((t) => t.id) : null,
      routed_experts: null,
    };
  });
  const prompt = ctx.promptTokenIds.length;
  return {
    id: `chatcmpl-${ctx.id}`,
    object: 'chat.completion',
    created: ctx.createdSeconds,
    model: ctx.model,
    choices: out,
    service_tier: null,
    system_fingerprint: null,
    usage: {
      prompt_tokens: prompt,
      total_tokens: prompt + completionTokens,
      completion_tokens: completionTokens,
      prompt_tokens_details: null,
      completion_tokens_details: null,
    },
    prompt_logprobs: null,
    prompt_token_ids: withIds ? ctx.promptTokenIds : null,
    prompt_text: null,
    kv_transfer_params: null,
    ec_transfer_params: null,
    metrics: null,
  };
}
