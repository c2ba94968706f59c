import { type Box, hasPositiveArea, isEmptyBox } from '../boxes/box.js';
import { findFirstBox } from './box-syntax.js';
import { FAMILY_SYNTAX, type ModelFamily } from './families.js';

/** What a model said, as a value: never an exception (docs/method.md §3). */
export type ParsedAnswer =
  | { readonly kind: 'box'; readonly box: Box }
  | { readonly kind: 'empty' }
  | { readonly kind: 'invalid'; readonly reason: string };

const ANSWER_OPEN = '<answer>';
const ANSWER_CLOSE = '</answer>';

/** The [start, end) span of the first `<answer>…</answer>` block, or null. */
export function findAnswerBlock(text: string): { start: number; end: number } | null {
  const open = text.indexOf(ANSWER_OPEN);
  if (open < 0) return null;
  const start = open + ANSWER_OPEN.length;
  const close = text.indexOf(ANSWER_CLOSE, start);
  return close < 0 ? null : { start, end: close };
}

/**
 * Parses a completion of the given model family into a box in the model's own
 * frame. Takes the first well-formed box (inside the first `<answer>` block for
 * families that use one); an all-zero box is `empty`; a non-empty box with
 * x2 ≤ x1 or y2 ≤ y1, a negative or non-finite coordinate, or no box at all is
 * `invalid` with a reason. Linear in the text length; never throws.
 */
export function parseAnswer(text: string, family: ModelFamily): ParsedAnswer {
  if (typeof text !== 'string') return { kind: 'invalid', reason: 'completion is not text' };
  const syntax = FAMILY_SYNTAX[family];
  let start = 0;
  let end = text.length;
  if (syntax.answerBlock) {
    const block = findAnswerBlock(text);
    if (block === null) {
      const reason = text.includes(ANSWER_OPEN) ? 'unterminated <answer> block' : 'no <answer> block';
      return { kind: 'invalid', reason };
    }
    start = block.start;
    end = block.end;
  }
  const found = findFirstBox(text, start, end, syntax.syntaxes, { integersOnly: false });
  if (found === null) return { kind: 'invalid', reason: syntax.answerBlock ? 'no box in <answer> block' : 'no box found' };
  return toParsedBox(found.box);
}

/** Classifies four coordinates as a box, the empty box, or invalid. */
export function toParsedBox(box: Box): ParsedAnswer {
  if (!box.every((v) => Number.isFinite(v))) return { kind: 'invalid', reason: 'coordinate is not a finite number' };
  if (isEmptyBox(box)) return { kind: 'empty' };
  if (box.some((v) => v < 0)) return { kind: 'invalid', reason: 'negative coordinate' };
  if (!hasPositiveArea(box)) return { kind: 'invalid', reason: 'box needs x2 > x1 and y2 > y1' };
  return { kind: 'box', box };
}
