import { z } from 'zod';

const LogprobEntrySchema = z.object({ token: z.string(), logprob: z.number() });
const TokenIdsSchema = z.array(z.number().int().min(0));

/** One choice of vLLM's chat completion; unknown fields are ignored. */
export const ChatChoiceSchema = z.object({
  index: z.number().int().min(0),
  message: z.object({ content: z.string() }),
  finish_reason: z.string().min(1),
  logprobs: z.object({ content: z.array(LogprobEntrySchema) }).nullish(),
  /** vLLM puts the completion's token ids on each choice when `return_token_ids` is set. */
  token_ids: TokenIdsSchema.nullish(),
});

/** The parts of vLLM's chat completion response that differad reads. */
export const ChatResponseSchema = z.object({
  choices: z.array(ChatChoiceSchema),
  /** On the response (not the choice) when `return_token_ids` is set. */
  prompt_token_ids: TokenIdsSchema.nullish(),
  usage: z.object({ prompt_tokens: z.number().int().min(0), completion_tokens: z.number().int().min(0) }).nullish(),
});
export type ChatResponse = z.infer<typeof ChatResponseSchema>;

/** A choice as differad keeps it. */
export interface ParsedChoice {
  readonly index: number;
  readonly text: string;
  readonly tokenIds: readonly number[] | null;
  /** Per-token log-probs of the sampled tokens under the sampling policy. */
  readonly logprobs: readonly number[] | null;
  readonly finishReason: string;
}

/** A valid response, or the field that was wrong. */
export type ParsedChatResponse =
  | {
      readonly kind: 'ok';
      readonly choices: readonly ParsedChoice[];
      readonly promptTokenIds: readonly number[] | null;
      readonly usage: { readonly promptTokens: number; readonly completionTokens: number } | null;
    }
  | { readonly kind: 'invalid'; readonly field: string; readonly message: string };

/** What the request asked for, so that a response missing it is invalid. */
export interface ResponseExpectation {
  readonly n: number;
  readonly logprobs: boolean;
  readonly tokenIds: boolean;
}

/** `['choices', 0, 'token_ids']` → `choices[0].token_ids`. */
export function toFieldPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) out += typeof key === 'number' ? `[${key}]` : `${out === '' ? '' : '.'}${String(key)}`;
  return out === '' ? '(body)' : out;
}

const invalid = (field: string, message: string): ParsedChatResponse => ({ kind: 'invalid', field, message });

/**
 * Validates a chat completion body against what was asked: n choices with
 * distinct indices, text, finish reason, and — when requested — token ids and
 * log-probs of equal length, and prompt token ids. Model output is untrusted:
 * every mismatch names its field.
 */
export function parseChatResponse(json: unknown, expect: ResponseExpectation): ParsedChatResponse {
  const parsed = ChatResponseSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return invalid(toFieldPath(issue.path), issue.message);
  }
  const body = parsed.data;
  if (body.choices.length !== expect.n) return invalid('choices', `expected ${expect.n} choices, got ${body.choices.length}`);
  const choices: (ParsedChoice | undefined)[] = new Array(expect.n);
  for (let k = 0; k < body.choices.length; k++) {
    const c = body.choices[k]!;
    const at = `choices[${k}]`;
    if (c.index >= expect.n || choices[c.index] !== undefined) return invalid(`${at}.index`, `index ${c.index} is out of range or repeated`);
    const logprobs = c.logprobs?.content.map((e) => e.logprob) ?? null;
    const tokenIds = c.token_ids ?? null;
    if (expect.logprobs && logprobs === null) return invalid(`${at}.logprobs`, 'log-probs were requested but are missing');
    if (expect.tokenIds && tokenIds === null) return invalid(`${at}.token_ids`, 'token ids were requested but are missing');
    if (logprobs !== null && tokenIds !== null && logprobs.length !== tokenIds.length) {
      return invalid(`${at}.logprobs.content`, `${logprobs.length} log-probs for ${tokenIds.length} token ids`);
    }
    choices[c.index] = { index: c.index, text: c.message.content, tokenIds, logprobs, finishReason: c.finish_reason };
  }
  const promptTokenIds = body.prompt_token_ids ?? null;
  if (expect.tokenIds && promptTokenIds === null) return invalid('prompt_token_ids', 'token ids were requested but are missing');
  const usage = body.usage ? { promptTokens: body.usage.prompt_tokens, completionTokens: body.usage.completion_tokens } : null;
  return { kind: 'ok', choices: choices as ParsedChoice[], promptTokenIds, usage };
}
