import { createRng } from '@differad/core';
import type { PairPrompt } from './run-context.js';

const SYSTEM =
  'You compare a product image with a known-good reference image. The first image is the reference, the second is the target. ' +
  'Think inside <think></think>, then answer only the anomaly box of the target inside <answer></answer> as (x1,y1),(x2,y2) ' +
  'with coordinates from 0 to 1000 relative to the target; answer (0,0),(0,0) when the target has no anomaly.';

const INSTRUCTIONS = [
  'Find where the target differs from the reference and give the box of the defect.',
  'Compare the two images and locate the single anomaly in the second one.',
  'Is there a defect in the target image? If so, box it; if not, answer the empty box.',
  'Look for the region of the target that does not match the reference and report its box.',
];

/** The default prompt: the system instruction plus one instruction drawn per (pair, seed). */
export function createDefaultPrompt(pool: readonly string[] = INSTRUCTIONS): (pairId: string, seed: number) => PairPrompt {
  return (pairId, seed) => ({ system: SYSTEM, instruction: createRng(`${pairId}/${seed}`).pick(pool) });
}
