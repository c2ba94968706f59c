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

const pack = (values: readonly number[], Typed: Uint32ArrayConstructor | Float64ArrayConstructor): string => {
  const typed = Typed.from(values);
  return Buffer.from(typed.buffer, typed.byteOffset, typed.byteLength).toString('base64');
};

const unpack = (text: string, Typed: Uint32ArrayConstructor | Float64ArrayConstructor): number[] => {
  const bytes = Buffer.from(text, 'base64');
  // A copy: a decoded Buffer may sit at an offset the typed array cannot be aligned to.
  const aligned = new Uint8Array(bytes.length);
  aligned.set(bytes);
  return Array.from(new Typed(aligned.buffer, 0, bytes.length / Typed.BYTES_PER_ELEMENT));
};

/** The stored text of a final group. */
export function toStoredSlot(result: SlotResult): string {
  const { sampled } = result;
  return JSON.stringify({
    ...result,
    packed: 1,
    sampled: {
      ...sampled,
      promptTokenIds: sampled.promptTokenIds === null ? null : pack(sampled.promptTokenIds, Uint32Array),
      completions: sampled.completions.map((c) => ({
        ...c,
        tokenIds: pack(c.tokenIds, Uint32Array),
        logprobs: pack(c.logprobs, Float64Array),
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
  const ints = (v: string | number[]) => (typeof v === 'string' ? unpack(v, Uint32Array) : v);
  return {
    ...(rest as Omit<Stored, 'packed'>),
    sampled: {
      ...sampled,
      promptTokenIds: sampled.promptTokenIds === null ? null : ints(sampled.promptTokenIds),
      completions: sampled.completions.map((c) => ({
        ...c,
        tokenIds: ints(c.tokenIds),
        logprobs: typeof c.logprobs === 'string' ? unpack(c.logprobs, Float64Array) : c.logprobs,
      })),
    },
  };
}
