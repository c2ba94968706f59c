import type { BoxSyntax } from './box-syntax.js';

/** Model families whose answer formats docs/method.md §3 defines. */
export const MODEL_FAMILIES = [
  'differad',
  'univg-r1',
  'migician',
  'qwen2-vl',
  'qwen2.5-vl',
  'qwen3-vl',
  'internvl',
  'cogvlm',
  'minicpm',
  'mantis',
  'mplug-owl3',
] as const;
export type ModelFamily = (typeof MODEL_FAMILIES)[number];

export interface FamilySyntax {
  /** Only the first `<answer>…</answer>` block counts. */
  readonly answerBlock: boolean;
  /** Box notations searched, leftmost match first. */
  readonly syntaxes: readonly BoxSyntax[];
}

const ANSWER_TAGGED: FamilySyntax = { answerBlock: true, syntaxes: ['paren', 'bracket'] };
// Qwen2-VL writes `<|box_start|>(x1,y1),(x2,y2)<|box_end|>`; Qwen2.5-VL and
// Qwen3-VL often answer with JSON `"bbox_2d": [x1, y1, x2, y2]` instead.
const QWEN2: FamilySyntax = { answerBlock: false, syntaxes: ['paren'] };
const QWEN_LATER: FamilySyntax = { answerBlock: false, syntaxes: ['paren', 'bracket'] };
// `[[x1,y1,x2,y2]]`, optionally inside `<box>…</box>`: the bracket scanner
// matches at the inner bracket.
const DOUBLE_BRACKET: FamilySyntax = { answerBlock: false, syntaxes: ['bracket'] };
const MINICPM: FamilySyntax = { answerBlock: false, syntaxes: ['box-tag-spaced', 'bracket'] };

export const FAMILY_SYNTAX: Readonly<Record<ModelFamily, FamilySyntax>> = Object.freeze({
  differad: ANSWER_TAGGED,
  'univg-r1': ANSWER_TAGGED,
  migician: ANSWER_TAGGED,
  'qwen2-vl': QWEN2,
  'qwen2.5-vl': QWEN_LATER,
  'qwen3-vl': QWEN_LATER,
  internvl: DOUBLE_BRACKET,
  cogvlm: DOUBLE_BRACKET,
  minicpm: MINICPM,
  mantis: DOUBLE_BRACKET,
  'mplug-owl3': DOUBLE_BRACKET,
});

/** True when `name` is a known family. */
export function isModelFamily(name: string): name is ModelFamily {
  return (MODEL_FAMILIES as readonly string[]).includes(name);
}
