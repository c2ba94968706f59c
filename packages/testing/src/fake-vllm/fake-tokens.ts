import type { Rng } from '@differad/core';
import { toTokenPieces } from '@differad/inference';

/** One generated token of a fake completion. */
export interface FakeToken {
  readonly text: string;
  readonly id: number;
  readonly logprob: number;
}

/** Splits text into fake tokens; log-probs come from `rng` so a seed fixes them. */
export function toFakeTokens(text: string, rng: Rng): FakeToken[] {
  return toTokenPieces(text).map((piece) => {
    const u = rng.next();
    return { ...piece, logprob: -(u * u * 3) };
  });
}
