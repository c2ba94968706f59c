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

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const isCount = (v: unknown): boolean => Number.isSafeInteger(v) && (v as number) >= 0;
const isAbsent = (v: unknown): boolean => v === undefined || v === null;

function isTokenIds(v: unknown): boolean {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (!isCount(v[i])) return false;
  return true;
}

function isLogprobs(v: unknown): boolean {
  if (!isObject(v) || !Array.isArray(v.content)) return false;
  for (const e of v.content as unknown[]) if (!isObject(e) || typeof e.token !== 'string' || typeof e.logprob !== 'number') return false;
  return true;
}

function isChoice(c: unknown, logprobsOk: (v: unknown) => boolean): boolean {
  return (
    isObject(c) &&
    isCount(c.index) &&
    isObject(c.message) &&
    typeof c.message.content === 'string' &&
    typeof c.finish_reason === 'string' &&
    c.finish_reason.length > 0 &&
    (isAbsent(c.logprobs) || logprobsOk(c.logprobs)) &&
    (isAbsent(c.token_ids) || isTokenIds(c.token_ids))
  );
}

/**
 * Whether a parsed body already has ChatResponseSchema's shape, checked by
 * hand: a response carries a log-prob object per token, which the schema
 * walks several times slower. Never true where the schema would refuse; a
 * body it calls false goes through the schema, which names the field.
 * `logprobsOk` checks a choice's `logprobs` (the lean body has numbers for entries).
 */
function hasChatShape(json: unknown, logprobsOk: (v: unknown) => boolean = isLogprobs): boolean {
  if (!isObject(json) || !Array.isArray(json.choices) || !json.choices.every((c) => isChoice(c, logprobsOk))) return false;
  if (!isAbsent(json.prompt_token_ids) && !isTokenIds(json.prompt_token_ids)) return false;
  const { usage } = json;
  return isAbsent(usage) || (isObject(usage) && isCount(usage.prompt_tokens) && isCount(usage.completion_tokens));
}

/** A body of ChatResponseSchema's shape, or the lean one, whose log-prob entries are their numbers. */
interface ChatBody {
  readonly choices: readonly {
    readonly index: number;
    readonly message: { readonly content: string };
    readonly finish_reason: string;
    readonly logprobs?: { readonly content: readonly (number | { readonly logprob: number })[] } | null;
    readonly token_ids?: readonly number[] | null;
  }[];
  readonly prompt_token_ids?: readonly number[] | null;
  readonly usage?: { readonly prompt_tokens: number; readonly completion_tokens: number } | null;
}

const logprobOf = (e: number | { readonly logprob: number }): number => (typeof e === 'number' ? e : e.logprob);

/** What was asked of a body of the right shape: n choices with distinct indices, and ids and log-probs when requested. */
function checkAsked(body: ChatBody, expect: ResponseExpectation): ParsedChatResponse {
  if (body.choices.length !== expect.n) return invalid('choices', `expected ${expect.n} choices, got ${body.choices.length}`);
  const choices: (ParsedChoice | undefined)[] = new Array(expect.n);
  for (let k = 0; k < body.choices.length; k++) {
    const c = body.choices[k]!;
    const at = `choices[${k}]`;
    if (c.index >= expect.n || choices[c.index] !== undefined)
      return invalid(`${at}.index`, `index ${c.index} is out of range or repeated`);
    const logprobs = c.logprobs?.content.map(logprobOf) ?? null;
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

/**
 * Validates a chat completion body against what was asked: n choices with
 * distinct indices, text, finish reason, and — when requested — token ids and
 * log-probs of equal length, and prompt token ids. Model output is untrusted:
 * every mismatch names its field.
 */
export function parseChatResponse(json: unknown, expect: ResponseExpectation): ParsedChatResponse {
  if (hasChatShape(json)) return checkAsked(json as ChatResponse, expect);
  const parsed = ChatResponseSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    return invalid(toFieldPath(issue.path), issue.message);
  }
  return checkAsked(parsed.data, expect);
}

/**
 * One log-prob entry exactly as vLLM's server writes it: Starlette's
 * JSONResponse (compact separators) of ChatCompletionLogProbsContent, whose
 * fields come in the order token, logprob, bytes, top_logprobs
 * (vllm/entrypoints/openai/chat_completion/protocol.py), here with no top
 * log-probs. In valid JSON a `{"token":"` outside a string can only open an
 * object whose first key is `token` (a quote inside a string is escaped, and
 * no letter may follow a closing quote), so every match is one whole entry
 * object with exactly these four members.
 */
const LOGPROB_ENTRY = /\{"token":"[^"\\]*(?:\\.[^"\\]*)*","logprob":(-?\d[\d.eE+-]*),"bytes":(?:\[[\d,]*\]|null),"top_logprobs":\[\]\}/g;
const ENTRY_START = '{"token":"';

function occurrences(text: string, needle: string): number {
  let n = 0;
  for (let at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + needle.length)) n += 1;
  return n;
}

/**
 * A chat completion body with each log-prob entry of vLLM's form replaced by
 * its log-prob (JSON text still), and how many were. An entry costs
 * JSON.parse four values and two arrays; its number alone parses several
 * times faster, and the log-prob is all differad reads of it. Each
 * replacement takes away one `{"token":"` and makes none (a number has no
 * quote), so the count is the difference of theirs: cheaper than counting in
 * a replacer function.
 */
export function compactLogprobEntries(text: string): { readonly text: string; readonly entries: number } {
  const lean = text.replace(LOGPROB_ENTRY, '$1');
  if (lean.length === text.length) return { text, entries: 0 };
  return { text: lean, entries: occurrences(text, ENTRY_START) - occurrences(lean, ENTRY_START) };
}

/**
 * {@link parseChatResponse} of a body as received, null when it is not JSON.
 * The lean body of {@link compactLogprobEntries} is read when every log-prob
 * entry of every choice is a number there, as many as were replaced, and the
 * rest has the schema's shape; any other body is parsed whole and checked as
 * before. The result is the whole body's wherever entries of vLLM's form
 * appear only as the choices' log-prob entries, as in every body vLLM, the
 * fakes and differad's servers write (a body that also held such objects
 * elsewhere and bare numbers among the entries could pass where the whole
 * body would not).
 */
export function parseChatResponseText(text: string, expect: ResponseExpectation): ParsedChatResponse | null {
  const lean = compactLogprobEntries(text);
  if (lean.entries > 0) {
    let numbers = 0;
    const isLean = (v: unknown): boolean => {
      if (!isObject(v) || !Array.isArray(v.content)) return false;
      for (const e of v.content as unknown[]) if (typeof e !== 'number') return false;
      numbers += v.content.length;
      return true;
    };
    let json: unknown;
    try {
      json = JSON.parse(lean.text);
    } catch {
      json = undefined;
    }
    if (json !== undefined && hasChatShape(json, isLean) && numbers === lean.entries) return checkAsked(json as ChatBody, expect);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return null;
  }
  return parseChatResponse(json, expect);
}
