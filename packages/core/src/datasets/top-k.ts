/** One candidate and its similarity to a query (higher = more alike). */
export interface Scored<T> {
  readonly item: T;
  readonly score: number;
}

/**
 * The `k` highest-scoring candidates, best first; ties keep input order so a
 * listing sorted by name gives the same reference every run. NaN scores rank last.
 */
export function selectTopK<T>(candidates: readonly T[], score: (item: T) => number, k: number): Scored<T>[] {
  const scored = candidates.map((item, order) => {
    const s = score(item);
    return { item, score: Number.isNaN(s) ? -Infinity : s, order };
  });
  scored.sort((a, b) => b.score - a.score || a.order - b.order);
  return scored.slice(0, Math.max(0, k)).map(({ item, score: s }) => ({ item, score: s }));
}
