import type { Frame } from '../boxes/frames.js';
import type { ModelFamily } from '../parse/families.js';

/**
 * The project's own prompt templates (docs/method.md §7), as pure data. The released
 * code's own pool is not shipped; for comparison runs it can be loaded as a
 * pool file (docs/method.md §12.4). No template names the class: in datasets
 * such as DeepPCB the class is the defect type, so naming it would leak the
 * answer.
 */

/** How a family writes its box, and the empty box, in the system instruction (docs/method.md §3). */
export interface AnswerFormat {
  /** The family answers inside `<think>…</think><answer>…</answer>`. */
  readonly tagged: boolean;
  readonly box: string;
  readonly empty: string;
}

/** The answer notation the system instruction asks each family for. */
export const FAMILY_ANSWER_FORMATS: Readonly<Record<ModelFamily, AnswerFormat>> = Object.freeze({
  differad: { tagged: true, box: '(x1,y1),(x2,y2)', empty: '(0,0),(0,0)' },
  'univg-r1': { tagged: true, box: '(x1,y1),(x2,y2)', empty: '(0,0),(0,0)' },
  migician: { tagged: true, box: '(x1,y1),(x2,y2)', empty: '(0,0),(0,0)' },
  'qwen2-vl': { tagged: false, box: '<|box_start|>(x1,y1),(x2,y2)<|box_end|>', empty: '<|box_start|>(0,0),(0,0)<|box_end|>' },
  'qwen2.5-vl': { tagged: false, box: '<|box_start|>(x1,y1),(x2,y2)<|box_end|>', empty: '<|box_start|>(0,0),(0,0)<|box_end|>' },
  'qwen3-vl': { tagged: false, box: '<|box_start|>(x1,y1),(x2,y2)<|box_end|>', empty: '<|box_start|>(0,0),(0,0)<|box_end|>' },
  internvl: { tagged: false, box: '<box>[[x1,y1,x2,y2]]</box>', empty: '<box>[[0,0,0,0]]</box>' },
  cogvlm: { tagged: false, box: '[[x1,y1,x2,y2]]', empty: '[[0,0,0,0]]' },
  minicpm: { tagged: false, box: '<box>x1 y1 x2 y2</box>', empty: '<box>0 0 0 0</box>' },
  mantis: { tagged: false, box: '<box>[x1, y1, x2, y2]</box>', empty: '<box>[0, 0, 0, 0]</box>' },
  'mplug-owl3': { tagged: false, box: '<box>[x1, y1, x2, y2]</box>', empty: '<box>[0, 0, 0, 0]</box>' },
});

/** What the coordinates mean in each frame (docs/method.md §2); `{width}` and `{height}` are the target as sent. */
export const FRAME_RULES: Readonly<Record<Frame, string>> = Object.freeze({
  norm1000:
    'Coordinates are integers from 0 to 1000 relative to the target image: x from its left edge (0) to its right edge (1000), y from its top edge (0) to its bottom edge (1000).',
  'resized-pixels':
    'Coordinates are integer pixels of the target image as you see it ({width}×{height}), x to the right and y down from its top-left corner.',
  pixels: 'Coordinates are integer pixels of the target image ({width}×{height}), x to the right and y down from its top-left corner.',
});

/** The system instruction of families that reason in `<think>` and answer in `<answer>` (docs/method.md §7). */
export const TAGGED_SYSTEM_TEMPLATE = [
  'You inspect products by comparing two images: the first is a known-good reference, the second is the target to inspect.',
  'Follow these rules:',
  '1. Reason about the differences inside <think></think>.',
  '2. Then write only the box of the anomalous region inside <answer></answer>, as {box} with x1 < x2 and y1 < y2.',
  '3. {frame_rule}',
  '4. If the target shows no anomaly, the answer is {empty}.',
  '5. Write nothing after </answer>.',
].join('\n');

/** The system instruction of families with their own box notation and no answer block. */
export const PLAIN_SYSTEM_TEMPLATE = [
  'You inspect products by comparing two images: the first is a known-good reference, the second is the target to inspect.',
  'Answer with exactly one box around the anomalous region, written as {box} with x1 < x2 and y1 < y2.',
  '{frame_rule}',
  'If the target shows no anomaly, answer {empty}.',
].join('\n');

/** The project's paraphrase pool: one is drawn per pair. */
export const INSTRUCTION_POOL: readonly string[] = Object.freeze([
  'Compare the target with the reference and box the region where the target differs in a way that would be a defect.',
  'The first image shows the product as it should be. Find the defect in the second image, if there is one, and give its box.',
  'Look for anything in the target that is missing, extra, broken or out of place compared with the reference, and localize it.',
  'Inspect the target image against the reference. Ignore small changes of lighting, position or noise; box a real anomaly.',
  'Is the target image normal? If it is not, return the bounding box of the anomalous area.',
  'Check the second image for defects by using the first as a template, and report where the defect is.',
  'Scan both images region by region. Where the target departs from the reference, draw one tight box around that region.',
  'Using the defect-free reference as a baseline, decide whether the target has an anomaly and locate it.',
  'Find the single region of the target that does not match the reference: a scratch, a hole, a stain, a missing or extra part.',
  'The reference is known to be good. Localize the anomaly in the target image, or say that there is none with the empty box.',
  'Spot the difference that matters: compare the target to the reference and box the defective region.',
  'Examine the structure, texture and content of the target against the reference and give the box of any abnormal region.',
  'Determine whether the inspected image contains a defect relative to the reference image, and if so where.',
  'Align the two images in your mind, look for where they disagree, and return the box of the anomaly in the target.',
  'Quality check: the first image passed, the second is under review. Box the defect in the second image, if any.',
  'Identify and localize any anomaly in the target image; differences due only to viewpoint or illumination are not anomalies.',
]);
