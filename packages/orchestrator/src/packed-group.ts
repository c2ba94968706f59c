import type { SlotResult } from './group-store.js';

/*
 * A slot's final group as stored in Redis. Token ids and log-probs are most
 * of its bytes and of its (de)serialization time as JSON number arrays (a
 * float64 printed and parsed digit by digit), so they are stored as base64 of
 * their typed arrays: token ids as uint32, log-probs as float64, which reads
 * back bit for bit, so the trainer gets the same numbers. Byte order is the
 * platform's: little-endian on every platform Node supports for this (x64,
 * arm64). `packed: 1` tells the form apart from the plain JSON of older writers.
 */

/*
 * One scratch buffer, viewed as uint32 and float64, for every pack and
 * unpack: a typed array and a Buffer per packed array cost several times
 * more than copying its numbers (a group has ~17 arrays of ~60 numbers).
 * Sharing it is safe: pack and unpack never await.
 */
let scratch = Buffer.allocUnsafeSlow(1 << 14);
let u32 = new Uint32Array(scratch.buffer, scratch.byteOffset, scratch.length / 4);
let f64 = new Float64Array(scratch.buffer, scratch.byteOffset, scratch.length / 8);

function reserve(bytes: number): void {
  if (bytes <= scratch.length) return;
  scratch = Buffer.allocUnsafeSlow(Math.ceil(Math.max(bytes, 2 * scratch.length) / 8) * 8);
  u32 = new Uint32Array(scratch.buffer, scratch.byteOffset, scratch.length / 4);
  f64 = new Float64Array(scratch.buffer, scratch.byteOffset, scratch.length / 8);
}

/** base64 of `values` as uint32 (ToUint32, as Uint32Array.from converts) or float64. */
function pack(values: readonly number[], kind: 'u32' | 'f64'): string {
  const size = kind === 'u32' ? 4 : 8;
  reserve(values.length * size);
  const typed = kind === 'u32' ? u32 : f64;
  for (let i = 0; i < values.length; i++) typed[i] = values[i]!;
  return scratch.toString('base64', 0, values.length * size);
}

/** The numbers of a packed array; bytes short of a whole last element are ignored. */
function unpack(text: string, kind: 'u32' | 'f64'): number[] {
  // base64 decodes to at most 3 bytes per 4 characters.
  reserve(Math.ceil(text.length / 4) * 3);
  const size = kind === 'u32' ? 4 : 8;
  const length = Math.floor(scratch.write(text, 0, 'base64') / size);
  const typed = kind === 'u32' ? u32 : f64;
  const values = new Array<number>(length);
  for (let i = 0; i < length; i++) values[i] = typed[i]!;
  return values;
}

/** The stored text of a final group. */
export function toStoredSlot(result: SlotResult): string {
  const { sampled } = result;
  return JSON.stringify({
    ...result,
    packed: 1,
    sampled: {
      ...sampled,
      promptTokenIds: sampled.promptTokenIds === null ? null : pack(sampled.promptTokenIds, 'u32'),
      completions: sampled.completions.map((c) => ({
        ...c,
        tokenIds: pack(c.tokenIds, 'u32'),
        logprobs: pack(c.logprobs, 'f64'),
      })),
    },
  });
}

type Stored = Omit<SlotResult, 'sampled'> & {
  readonly packed?: 1;
  readonly sampled: Omit<SlotResult['sampled'], 'promptTokenIds' | 'completions'> & {
    readonly promptTokenIds: string | number[] | null;
    readonly completions: (Omit<SlotResult['sampled']['completions'][number], 'tokenIds' | 'logprobs'> & {
      tokenIds: string | number[];
      logprobs: string | number[];
    })[];
  };
};

/** A final group from its stored text, packed or plain. */
export function parseStoredSlot(text: string): SlotResult {
  const stored = JSON.parse(text) as Stored;
  if (stored.packed !== 1) return stored as SlotResult;
  // Spread first, then overwritten: every key keeps its place.
  const rest: { -readonly [K in keyof Stored]?: Stored[K] } = { ...stored };
  delete rest.packed;
  const { sampled } = stored;
  const ints = (v: string | number[]) => (typeof v === 'string' ? unpack(v, 'u32') : v);
  return {
    ...(rest as Omit<Stored, 'packed'>),
    sampled: {
      ...sampled,
      promptTokenIds: sampled.promptTokenIds === null ? null : ints(sampled.promptTokenIds),
      completions: sampled.completions.map((c) => ({
        ...c,
        tokenIds: ints(c.tokenIds),
        logprobs: typeof c.logprobs === 'string' ? unpack(c.logprobs, 'f64') : c.logprobs,
      })),
    },
  };
}
