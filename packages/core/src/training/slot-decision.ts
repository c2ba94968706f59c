import { decideResample, type ExhaustedPolicy } from '../groups/group-stats.js';
import { drawReplacementPair, drawStepPairs, toSamplingSeed } from './draw-pairs.js';
import { finalizeGroup, type FinalGroup, type ScoredGroup } from './score-group.js';

/** Replacements one slot may draw before a degenerate group is kept anyway, so a step always ends (docs/method.md §5.4). */
export const MAX_REPLACEMENTS_PER_SLOT = 4;

/** Where a slot is: the run's seed, the step, the slot and the sizes its replacement draw needs. */
export interface SlotPosition {
  readonly seed: number;
  readonly step: number;
  readonly slot: number;
  readonly pairsPerStep: number;
  /** Pairs in the training manifest. */
  readonly datasetSize: number;
}

/** What the slot has been through when one of its samplings was scored. */
export interface SlotHistory {
  /** The attempt just scored. */
  readonly attempt: number;
  /** Whether that sampling is degenerate (docs/method.md §5.3). */
  readonly degenerate: boolean;
  /** Every scored sampling of the slot so far, by attempt (the one just scored included). */
  readonly scores: ReadonlyMap<number, ScoredGroup>;
  /** The attempts that started a replacement pair, each with that pair's index in the training manifest. */
  readonly replacements: ReadonlyMap<number, number>;
}

/** The `grpo` settings the slot decision follows. */
export interface SlotRules {
  readonly maxResamples: number;
  readonly onExhausted: ExhaustedPolicy;
  readonly weightFrom: 'first' | 'final';
}

/** What becomes of a slot after a scoring. */
export type SlotDecision =
  /** Sample the same pair again as `attempt`, with `seed`. */
  | { readonly kind: 'resample'; readonly attempt: number; readonly seed: number }
  /** Sample the manifest's pair `pair` in this slot as `attempt`, with `seed`; its resample count starts afresh. */
  | { readonly kind: 'replace'; readonly attempt: number; readonly seed: number; readonly pair: number }
  /** The sampling just scored is the slot's final group. */
  | {
      readonly kind: 'keep';
      readonly final: FinalGroup;
      /** Extra samplings of the slot's pairs (the step metric `resamples`). */
      readonly resamples: number;
      /** Pairs drawn for the slot (the step metric `replacements`). */
      readonly replacements: number;
    };

/**
 * The replacement for the slot: neither a pair of the step nor one the slot
 * has had (its drawn pair, then its replacements in attempt order), or null
 * when none is left.
 */
function drawReplacement(position: SlotPosition, replacements: ReadonlyMap<number, number>): number | null {
  const { seed, step, slot, pairsPerStep, datasetSize } = position;
  const stepPairs = drawStepPairs(seed, step, pairsPerStep, datasetSize);
  const replaced = [...replacements.entries()].sort(([a], [b]) => a - b).map(([, pair]) => pair);
  const previous = [stepPairs[slot]!, ...replaced];
  return drawReplacementPair({ seed, step, stepPairs, slot, previous, perSlot: MAX_REPLACEMENTS_PER_SLOT, datasetSize });
}

/**
 * Decides a slot after one of its samplings was scored (docs/method.md
 * §5.3–§5.4): a group that is not degenerate is kept; a degenerate one is
 * sampled again while its pair has had fewer than `maxResamples` extra
 * samplings; then `onExhausted` says keep it, or replace the pair by a fresh
 * one (which starts its own resample count). After
 * {@link MAX_REPLACEMENTS_PER_SLOT} replacements, or when no pair is left to
 * draw, the group is kept anyway. A kept group enters the batch as
 * `finalizeGroup` makes it from its pair's samplings.
 */
export function decideSlot(position: SlotPosition, history: SlotHistory, rules: SlotRules): SlotDecision {
  const { attempt, scores, replacements } = history;
  // Samplings of the current pair: from the attempt that started it (0, or its replacement) to this one.
  const starts = [...replacements.keys()].filter((a) => a <= attempt);
  const pairStart = starts.length > 0 ? Math.max(...starts) : 0;
  const replaced = starts.length;
  const ordered = [...scores.entries()].sort(([a], [b]) => a - b);
  const samePair = ordered.filter(([a]) => a >= pairStart && a <= attempt).map(([, s]) => s);
  // The next sampling of the slot, whichever pair it is of: its own seed, so a rerun samples the same.
  const next = attempt + 1;
  const seed = () => toSamplingSeed(position.seed, position.step, position.slot, next);

  const decision = decideResample({
    degenerate: history.degenerate,
    resamplesDone: samePair.length - 1,
    maxResamples: rules.maxResamples,
    onExhausted: rules.onExhausted,
  });
  if (decision === 'resample') return { kind: 'resample', attempt: next, seed: seed() };
  if (decision === 'replace' && replaced < MAX_REPLACEMENTS_PER_SLOT) {
    const pair = drawReplacement(position, replacements);
    if (pair !== null) return { kind: 'replace', attempt: next, seed: seed(), pair };
  }
  return {
    kind: 'keep',
    final: finalizeGroup(samePair, rules.weightFrom),
    resamples: ordered.length - 1 - replaced,
    replacements: replaced,
  };
}
