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

/** Typed arrays use the host's byte order; the wire's is little-endian (a big-endian host swaps). */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * One reused buffer, with views of it, that every pack and unpack goes
 * through (all synchronous): no allocation per completion but the strings
 * and arrays returned. Grows to the largest completion seen.
 */
let scratch = { bytes: Buffer.alloc(0), u32: new Uint32Array(0), f64: new Float64Array(0) };

function scratchOf(byteLength: number): typeof scratch {
  if (scratch.bytes.length < byteLength) {
    let size = 4096;
    while (size < byteLength) size *= 2;
    const buffer = new ArrayBuffer(size);
    scratch = { bytes: Buffer.from(buffer), u32: new Uint32Array(buffer), f64: new Float64Array(buffer) };
  }
  return scratch;
}

/** Base64 of the first `byteLength` bytes of the scratch, as little-endian `width`-byte values. */
function scratchToBase64(s: typeof scratch, byteLength: number, width: 4 | 8): string {
  const bytes = s.bytes.subarray(0, byteLength);
  if (!LITTLE_ENDIAN) {
    if (width === 4) bytes.swap32();
    else bytes.swap64();
  }
  return bytes.toString('base64');
}

/** Decodes base64 of little-endian `width`-byte values into the scratch (host order); returns how many values. */
function decodeToScratch(text: string, width: 4 | 8): { s: typeof scratch; count: number } {
  const s = scratchOf(Buffer.byteLength(text, 'base64'));
  const written = s.bytes.write(text, 0, 'base64');
  const count = Math.floor(written / width);
  if (!LITTLE_ENDIAN) {
    const bytes = s.bytes.subarray(0, count * width);
    if (width === 4) bytes.swap32();
    else bytes.swap64();
  }
  return { s, count };
}

/** Packs token ids (integers in [0, 2³²)) and one log-prob each; throws a RangeError on an id out of range or a count mismatch. */
export function packTokens(tokenIds: readonly number[], logprobs: readonly number[]): PackedTokens {
  const n = tokenIds.length;
  if (n !== logprobs.length)
    throw new RangeError(`${n} token ids and ${logprobs.length} log-probs: packing needs one log-prob per token id`);
  const s = scratchOf(n * 8);
  for (let i = 0; i < n; i++) {
    const id = tokenIds[i]!;
    // A Uint32Array would wrap an id out of range silently.
    if (!(Number.isInteger(id) && id >= 0 && id <= 0xffff_ffff))
      throw new RangeError(`token id ${id} at ${i} is not an integer in [0, 2³²)`);
    s.u32[i] = id;
  }
  const token_ids = scratchToBase64(s, n * 4, 4);
  for (let i = 0; i < n; i++) s.f64[i] = logprobs[i]!;
  return { token_ids, sampling_logprobs: scratchToBase64(s, n * 8, 8) };
}

/**
 * The packed form's rules on its decoded bytes (strings that are not base64
 * are left to the schema): 4 bytes per token id and at least one, 8 bytes per log-prob
 * and one per token id, every log-prob finite. Null when they hold.
 */
export function packedProblem(packed: PackedTokens): CompletionProblem | null {
  // A string that is not base64 is the schema's to name.
  if (!isBase64(packed.token_ids) || !isBase64(packed.sampling_logprobs)) return null;
  return packedBytesProblem(packed);
}

/** {@link packedProblem} for strings known to be base64 (the hand check has tested them). */
export function packedBytesProblem(packed: PackedTokens): CompletionProblem | null {
  const idBytes = Buffer.byteLength(packed.token_ids, 'base64');
  if (idBytes === 0 || idBytes % 4 !== 0)
    return {
      path: ['packed', 'token_ids'],
      message: `needs 4 bytes (a little-endian uint32) per token id, at least one: got ${idBytes} bytes`,
    };
  const lpBytes = Buffer.byteLength(packed.sampling_logprobs, 'base64');
  if (lpBytes !== idBytes * 2)
    return {
      path: ['packed', 'sampling_logprobs'],
      message: `needs 8 bytes (a little-endian float64) per token id: got ${lpBytes} bytes for ${idBytes / 4} token ids`,
    };
  const { s, count } = decodeToScratch(packed.sampling_logprobs, 8);
  for (let i = 0; i < count; i++)
    if (!Number.isFinite(s.f64[i]!)) return { path: ['packed', 'sampling_logprobs'], message: `log-prob ${i} is not finite` };
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
  const ids = decodeToScratch(c.packed.token_ids, 4);
  const token_ids = Array.from(ids.s.u32.subarray(0, ids.count));
  const lps = decodeToScratch(c.packed.sampling_logprobs, 8);
  return { token_ids, sampling_logprobs: Array.from(lps.s.f64.subarray(0, lps.count)) };
}

/** How many tokens a valid completion has, whichever form it came in (without decoding a packed one). */
export function completionTokenCount(c: {
  readonly token_ids?: readonly number[] | undefined;
  readonly packed?: PackedTokens | undefined;
}): number {
  return c.packed === undefined ? (c.token_ids?.length ?? 0) : Buffer.byteLength(c.packed.token_ids, 'base64') / 4;
}
