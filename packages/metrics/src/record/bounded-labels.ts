/**
 * Keeps a label's values bounded: at most `max` values are live; touching a
 * new one beyond that evicts the least recently touched, and `onEvict` removes
 * its series from every metric that carries the label. A long-lived
 * `differad worker` serves run after run (and, for `policy.kind: cpu`, servers
 * on fresh ports), so without a cap its series would grow for ever.
 */
export interface BoundedLabels {
  /** Marks `value` as live (most recent), evicting the oldest past the cap. */
  touch(value: string): void;
  /** Removes `value` now (its series with it). */
  forget(value: string): void;
  has(value: string): boolean;
  /** The live values, oldest first. */
  values(): readonly string[];
}

/** Creates a {@link BoundedLabels} of at most `max` (≥ 1) values. */
export function createBoundedLabels(max: number, onEvict: (value: string) => void): BoundedLabels {
  if (!Number.isInteger(max) || max < 1) throw new RangeError(`bounded labels need a cap of at least 1, got ${max}`);
  // A Map iterates in insertion order: re-inserting on touch keeps it ordered by recency.
  const live = new Map<string, true>();
  const forget = (value: string) => {
    if (live.delete(value)) onEvict(value);
  };
  return {
    touch(value) {
      live.delete(value);
      live.set(value, true);
      while (live.size > max) forget(live.keys().next().value as string);
    },
    forget,
    has: (value) => live.has(value),
    values: () => [...live.keys()],
  };
}
