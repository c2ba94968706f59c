import { RUN_ID_PATTERN } from './common.js';
import {
  ChatMessageSchema,
  CompletionSchema,
  type ForwardBackwardRequest,
  ForwardBackwardRequestSchema,
  type ForwardBackwardResponse,
  ForwardBackwardResponseSchema,
  GroupSchema,
  LossConfigSchema,
  PackedTokensSchema,
  SHA256_PATTERN,
  TrainerImageSchema,
} from './forward-backward.js';
import {
  countDefined,
  hasOnlyKeys,
  isArrayOf,
  isBase64,
  isIntIn,
  isNumber,
  isNumberIn,
  isNumbers,
  isRecord,
  isStringIn,
  isTokenIds,
  keysOf,
} from './hand-check.js';
import { type PackedTokens, packedBytesProblem } from './packed-tokens.js';

/*
 * forward_backward's request and reply checked by hand: the request carries a
 * token id and a log-prob per sampled token and the images' base64, which
 * zod walks several times slower (and z.base64() decodes every image to test
 * it). Each function is true exactly when its schema accepts the value (the
 * table tests in hand-check.test.ts hold them to that), except that objects
 * must be plain (isRecord). Every limit here is the schema's: change both.
 */

const MAX_STEP = 2_147_483_647;
const MEDIA_TYPES: ReadonlySet<unknown> = new Set(['image/png', 'image/jpeg', 'image/webp']);
const ROLES: ReadonlySet<unknown> = new Set(['system', 'user', 'assistant']);

const IMAGE_KEYS = keysOf(TrainerImageSchema);
const MESSAGE_KEYS = keysOf(ChatMessageSchema);
const TEXT_PART_KEYS: ReadonlySet<string> = new Set(['type', 'text']);
const IMAGE_PART_KEYS: ReadonlySet<string> = new Set(['type', 'image']);
const COMPLETION_KEYS = keysOf(CompletionSchema);
const PACKED_KEYS = keysOf(PackedTokensSchema);
const GROUP_KEYS = keysOf(GroupSchema);
const LOSS_KEYS = keysOf(LossConfigSchema);
const REQUEST_KEYS = keysOf(ForwardBackwardRequestSchema);
const RESPONSE_KEYS = keysOf(ForwardBackwardResponseSchema);
const MASKED_KEYS: ReadonlySet<string> = new Set(['truncated', 'unscorable']);

/** RunIdSchema. */
export const isRunId = (v: unknown): v is string => isStringIn(v, 1, 128) && RUN_ID_PATTERN.test(v);

/** StepSchema and WeightVersionSchema. */
export const isStep = (v: unknown): v is number => isIntIn(v, 0, MAX_STEP);

function isImage(v: unknown): boolean {
  if (!isRecord(v)) return false;
  const { sha256, data, media_type } = v;
  return (
    typeof sha256 === 'string' &&
    SHA256_PATTERN.test(sha256) &&
    (data === undefined || isBase64(data)) &&
    (media_type === undefined || MEDIA_TYPES.has(media_type)) &&
    hasOnlyKeys(v, IMAGE_KEYS, 1 + countDefined(data, media_type))
  );
}

/** MessagePartSchema, plus GroupSchema's rule that an image index is below the group's image count. */
function isPart(v: unknown, images: number): boolean {
  if (!isRecord(v)) return false;
  if (v.type === 'text') return typeof v.text === 'string' && hasOnlyKeys(v, TEXT_PART_KEYS, 2);
  return v.type === 'image' && isIntIn(v.image, 0, images - 1) && hasOnlyKeys(v, IMAGE_PART_KEYS, 2);
}

function isMessage(v: unknown, images: number): boolean {
  if (!isRecord(v) || !ROLES.has(v.role)) return false;
  const { content } = v;
  if (typeof content !== 'string' && !isArrayOf(content, 0, Number.POSITIVE_INFINITY, (p) => isPart(p, images))) return false;
  return hasOnlyKeys(v, MESSAGE_KEYS, 2);
}

/** PackedTokensSchema and CompletionSchema's rules on the decoded bytes. */
function isPacked(v: unknown): v is PackedTokens {
  return (
    isRecord(v) &&
    isBase64(v.token_ids) &&
    isBase64(v.sampling_logprobs) &&
    hasOnlyKeys(v, PACKED_KEYS, 2) &&
    packedBytesProblem(v as unknown as PackedTokens) === null
  );
}

/** The two arrays of one log-prob per token id, or `packed`: one of them. */
function hasTokens(token_ids: unknown, sampling_logprobs: unknown, packed: unknown): boolean {
  if (packed !== undefined) return token_ids === undefined && sampling_logprobs === undefined && isPacked(packed);
  return isTokenIds(token_ids, 1) && isNumbers(sampling_logprobs, 1) && sampling_logprobs.length === token_ids.length;
}

function isCompletion(v: unknown): boolean {
  if (!isRecord(v)) return false;
  const { token_ids, sampling_logprobs, packed } = v;
  return (
    isStringIn(v.text, 0, 1_000_000) &&
    hasTokens(token_ids, sampling_logprobs, packed) &&
    isNumber(v.advantage) &&
    isNumberIn(v.weight, 0, 100) &&
    typeof v.truncated === 'boolean' &&
    hasOnlyKeys(v, COMPLETION_KEYS, 4 + countDefined(token_ids, sampling_logprobs, packed))
  );
}

function isGroup(v: unknown): boolean {
  if (!isRecord(v)) return false;
  const { pair_id, images, prompt_token_ids } = v;
  return (
    (pair_id === undefined || isStringIn(pair_id, 0, 256)) &&
    isArrayOf(images, 0, 16, isImage) &&
    isArrayOf(v.messages, 1, Number.POSITIVE_INFINITY, (m) => isMessage(m, images.length)) &&
    (prompt_token_ids === null || isTokenIds(prompt_token_ids, 0)) &&
    isArrayOf(v.completions, 1, 1024, isCompletion) &&
    hasOnlyKeys(v, GROUP_KEYS, 4 + countDefined(pair_id))
  );
}

function isLossConfig(v: unknown): boolean {
  if (!isRecord(v)) return false;
  const { step_sequences, step_tokens } = v;
  return (
    isNumberIn(v.clip_low, 0, 1) &&
    isNumberIn(v.clip_high, 0, 10) &&
    isNumberIn(v.beta, 0, 10) &&
    (v.normalization === 'sequence' || v.normalization === 'token') &&
    typeof v.mask_truncated === 'boolean' &&
    isNumberIn(v.temperature, 1e-3, 10) &&
    (step_sequences === undefined || isIntIn(step_sequences, 1)) &&
    (step_tokens === undefined || isIntIn(step_tokens, 1)) &&
    hasOnlyKeys(v, LOSS_KEYS, 6 + countDefined(step_sequences, step_tokens))
  );
}

/** ForwardBackwardRequestSchema accepts `v` (whose plain objects it would send unchanged). */
export function isForwardBackwardRequest(v: unknown): v is ForwardBackwardRequest {
  if (!isRecord(v)) return false;
  const { micro_batch, micro_batches, prompt_mismatch } = v;
  return (
    isRunId(v.run) &&
    isStep(v.step) &&
    isIntIn(micro_batch, 0, 65_535) &&
    isIntIn(micro_batches, 1, 65_536) &&
    micro_batch < micro_batches &&
    isLossConfig(v.loss) &&
    (prompt_mismatch === undefined || prompt_mismatch === 'error' || prompt_mismatch === 'ignore') &&
    isArrayOf(v.groups, 1, 4096, isGroup) &&
    hasOnlyKeys(v, REQUEST_KEYS, 6 + countDefined(prompt_mismatch))
  );
}

const isNullOr = (v: unknown, check: (v: unknown) => boolean): boolean => v === null || check(v);

/** ForwardBackwardResponseSchema accepts `v`. */
export function isForwardBackwardResponse(v: unknown): v is ForwardBackwardResponse {
  if (!isRecord(v)) return false;
  const { masked } = v;
  return (
    isRunId(v.run) &&
    isStep(v.step) &&
    isIntIn(v.micro_batch, 0) &&
    typeof v.duplicate === 'boolean' &&
    isNullOr(v.loss, isNumber) &&
    isNullOr(v.clip_fraction, (x) => isNumberIn(x, 0, 1)) &&
    isNullOr(v.kl, isNumber) &&
    isIntIn(v.sequences, 0) &&
    isIntIn(v.tokens, 0) &&
    isRecord(masked) &&
    isIntIn(masked.truncated, 0) &&
    isIntIn(masked.unscorable, 0) &&
    hasOnlyKeys(masked, MASKED_KEYS, 2) &&
    (v.prompt_tokens_match === null || typeof v.prompt_tokens_match === 'boolean') &&
    hasOnlyKeys(v, RESPONSE_KEYS, 11)
  );
}
