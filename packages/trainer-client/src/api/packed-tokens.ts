/**
 * A completion's token ids and sampling log-probs in the packed form of
 * trainer API v1 (`completions[].packed`): base64 of the ids as
 * little-endian uint32 and of the log-probs as little-endian float64. The
 * same numbers as the two JSON arrays, bit for bit, without formatting and
 * parsing a decimal per token on either side (a micro-batch carries tens of
 * thousands). A trainer that lists `packed_completions` in its health
 * `features` accepts it.
 */
import { isBase64 } from './hand-check.js';

/** The health `features` entry of a trainer that accepts packed completions. */
export const PACKED_COMPLETIONS = 'packed_completions';

/** `completions[].packed` on the wire. */
export interface PackedTokens {
  readonly token_ids: string;
  readonly sampling_logprobs: string;
}

/** The two arrays a packed completion stands for (the same keys, as numbers). */
export type CompletionTokens = { readonly [K in keyof PackedTokens]: readonly number[] };

/** A rule of the completion broken: `path` relative to the completion (as zod reports it). */
export interface CompletionProblem {
  readonly path: readonly string[];
  readonly message: string;
}

/** Packs token ids (integers in [0, 2³²)) and one log-prob each; throws a RangeError on an id out of range or a count mismatch. */
export function packTokens(tokenIds: readonly number[], logprobs: readonly number[]): PackedTokens {
  if (tokenIds.length !== logprobs.length)
    throw new RangeError(`${tokenIds.length} token ids and ${logprobs.length} log-probs: packing needs one log-prob per token id`);
  const ids = Buffer.allocUnsafe(tokenIds.length * 4);
  const lps = Buffer.allocUnsafe(logprobs.length * 8);
  for (let i = 0; i < tokenIds.length; i++) {
    ids.writeUInt32LE(tokenIds[i]!, i * 4);
    lps.writeDoubleLE(logprobs[i]!, i * 8);
  }
  return { token_ids: ids.toString('base64'), sampling_logprobs: lps.toString('base64') };
}

/**
 * The packed form's rules on its decoded bytes (strings that are not base64
 * are left to the schema): 4 bytes per token id and at least one, 8 bytes per log-prob
 * and one per token id, every log-prob finite. Null when they hold.
 */
export function packedProblem(packed: PackedTokens): CompletionProblem | null {
  // A string that is not base64 is the schema's to name.
  if (!isBase64(packed.token_ids) || !isBase64(packed.sampling_logprobs)) return null;
  const ids = Buffer.from(packed.token_ids, 'base64');
  if (ids.length === 0 || ids.length % 4 !== 0)
    return {
      path: ['packed', 'token_ids'],
      message: `needs 4 bytes (a little-endian uint32) per token id, at least one: got ${ids.length} bytes`,
    };
  const lps = Buffer.from(packed.sampling_logprobs, 'base64');
  if (lps.length !== ids.length * 2)
    return {
      path: ['packed', 'sampling_logprobs'],
      message: `needs 8 bytes (a little-endian float64) per token id: got ${lps.length} bytes for ${ids.length / 4} token ids`,
    };
  for (let i = 0; i < lps.length / 8; i++)
    if (!Number.isFinite(lps.readDoubleLE(i * 8))) return { path: ['packed', 'sampling_logprobs'], message: `log-prob ${i} is not finite` };
  return null;
}

/** What a completion's schema-valid fields break of the rule "the arrays or `packed`, one of them" (checked in this order), or null. */
export function completionFormProblem(c: {
  readonly token_ids?: readonly number[] | undefined;
  readonly sampling_logprobs?: readonly number[] | undefined;
  readonly packed?: PackedTokens | undefined;
}): CompletionProblem | null {
  if (c.packed !== undefined) {
    if (c.token_ids !== undefined || c.sampling_logprobs !== undefined)
      return { path: ['packed'], message: 'give token_ids and sampling_logprobs, or packed, not both' };
    return packedProblem(c.packed);
  }
  if (c.token_ids === undefined) return { path: ['token_ids'], message: 'required (or packed)' };
  if (c.sampling_logprobs === undefined) return { path: ['sampling_logprobs'], message: 'required (or packed)' };
  if (c.sampling_logprobs.length !== c.token_ids.length) return { path: ['sampling_logprobs'], message: 'needs one log-prob per token id' };
  return null;
}

/** A valid completion's token ids and log-probs, whichever form it came in. */
export function completionTokens(c: {
  readonly token_ids?: readonly number[] | undefined;
  readonly sampling_logprobs?: readonly number[] | undefined;
  readonly packed?: PackedTokens | undefined;
}): CompletionTokens {
  if (c.packed === undefined) return { token_ids: c.token_ids ?? [], sampling_logprobs: c.sampling_logprobs ?? [] };
  const ids = Buffer.from(c.packed.token_ids, 'base64');
  const lps = Buffer.from(c.packed.sampling_logprobs, 'base64');
  const n = ids.length / 4;
  const token_ids = new Array<number>(n);
  const sampling_logprobs = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    token_ids[i] = ids.readUInt32LE(i * 4);
    sampling_logprobs[i] = lps.readDoubleLE(i * 8);
  }
  return { token_ids, sampling_logprobs };
}

/** How many tokens a valid completion has, whichever form it came in (without decoding a packed one). */
export function completionTokenCount(c: {
  readonly token_ids?: readonly number[] | undefined;
  readonly packed?: PackedTokens | undefined;
}): number {
  return c.packed === undefined ? (c.token_ids?.length ?? 0) : Buffer.byteLength(c.packed.token_ids, 'base64') / 4;
}
