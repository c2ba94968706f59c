/** How a step's groups go to the trainer: micro-batches in order, and the whole step's loss denominators. */
export interface MicroBatchPlan<G> {
  /** The groups in order, `microBatchGroups` per micro-batch; the last one holds the remainder. */
  readonly batches: readonly (readonly G[])[];
  /** Completions of the whole step, masked ones included (`loss.step_sequences`). */
  readonly stepSequences: number;
  /** Tokens of every completion of the step, masked ones included (`loss.step_tokens`). */
  readonly stepTokens: number;
}

/**
 * Cuts a step's groups into micro-batches of `microBatchGroups` groups (an
 * integer ≥ 1), keeping their order, and counts the step's completions and
 * tokens. Every micro-batch is normalized by these step totals, so the step's
 * gradient is the same however the groups are split, a short last
 * micro-batch and masked completions included (docs/method.md §6.3).
 * `tokenCounts` gives the token count of each completion of a group.
 */
export function planMicroBatches<G>(
  groups: readonly G[],
  microBatchGroups: number,
  tokenCounts: (group: G) => readonly number[],
): MicroBatchPlan<G> {
  if (!(Number.isInteger(microBatchGroups) && microBatchGroups >= 1))
    throw new RangeError(`microBatchGroups must be an integer ≥ 1, got ${microBatchGroups}`);
  const batches: G[][] = [];
  for (let i = 0; i < groups.length; i += microBatchGroups) batches.push(groups.slice(i, i + microBatchGroups));
  const counts = groups.flatMap((g) => [...tokenCounts(g)]);
  return { batches, stepSequences: counts.length, stepTokens: counts.reduce((a, n) => a + n, 0) };
}
