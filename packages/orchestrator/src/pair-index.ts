import type { ManifestRecord } from '@differad/core';

/**
 * The position of every pair id in the training manifest. Ids are unique
 * (the manifest loader refuses a duplicate), so this is exactly what a
 * search of the list finds, without a scan per lookup: rollouts, scoring and
 * the step job look a pair up ~3 times per group, a scan of a 100,000-pair
 * manifest each time.
 */
export function indexPairs(records: readonly ManifestRecord[]): ReadonlyMap<string, number> {
  const index = new Map<string, number>();
  records.forEach((r, i) => {
    if (!index.has(r.id)) index.set(r.id, i);
  });
  return index;
}

/** Where the run's pairs are found: the manifest's records and their index by id. */
export interface RunPairs {
  readonly records: readonly ManifestRecord[];
  readonly pairIndex: ReadonlyMap<string, number>;
}

/** The training record of `pairId`, or undefined when the manifest has none. */
export function recordOf(pairs: RunPairs, pairId: string): ManifestRecord | undefined {
  const at = pairs.pairIndex.get(pairId);
  return at === undefined ? undefined : pairs.records[at];
}
