/**
 * A stand-in tokenizer for differad's own OpenAI-compatible servers (the fake
 * vLLM and the CPU policy), which have no model vocabulary: words, single
 * digits (as Qwen tokenizes numbers), runs of spaces and single symbols, each
 * with a stable id, so token ids and per-token log-probs can be returned.
 */
export interface TokenPiece {
  readonly text: string;
  readonly id: number;
}

const TOKEN_PATTERN = /[A-Za-z]+|\d|\s+|[^A-Za-z\d\s]/g;
const VOCAB = 150_000;
/** Qwen-style image placeholder id; every image adds `IMAGE_TOKENS` of them to the prompt. */
const IMAGE_PAD_ID = 151_655;
const IMAGE_TOKENS = 64;

/** A stable id for a token text (FNV-1a), so the same text always maps to the same id. */
export function toTokenId(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return 10 + ((h >>> 0) % VOCAB);
}

/** Splits text into token pieces; joining the pieces' text gives the text back. */
export function toTokenPieces(text: string): TokenPiece[] {
  return (text.match(TOKEN_PATTERN) ?? []).map((piece) => ({ text: piece, id: toTokenId(piece) }));
}

/** Prompt token ids: a block of image placeholders per image, then the text's tokens. */
export function toPromptTokenIds(texts: readonly string[], imageCount: number): number[] {
  const ids: number[] = [];
  for (let k = 0; k < imageCount; k++) for (let j = 0; j < IMAGE_TOKENS; j++) ids.push(IMAGE_PAD_ID);
  for (const text of texts) for (const piece of toTokenPieces(text)) ids.push(piece.id);
  return ids;
}
