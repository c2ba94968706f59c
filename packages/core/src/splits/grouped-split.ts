import type { Rng } from '../random/rng.js';

/** The parts a split makes; `test` is only made when asked for. */
export const SPLIT_PARTS = ['train', 'heldout', 'test'] as const;
export type SplitPart = (typeof SPLIT_PARTS)[number];

/** A requested part size: a share of all records (0 < value < 1) or a number of records. */
export type SplitSize = { readonly kind: 'fraction'; readonly value: number } | { readonly kind: 'count'; readonly value: number };

/** Record indices per part (ascending, i.e. manifest order) and how many groups each part got. */
export interface GroupedSplit {
  readonly parts: Readonly<Record<SplitPart, readonly number[]>>;
  readonly groups: Readonly<Record<SplitPart, number>>;
  /** The record counts the held-out and test parts aimed at. */
  readonly targets: { readonly heldout: number; readonly test: number };
}

/** The record count a size asks for out of `n` records: a fraction rounds to the nearest record. */
export function toTargetCount(size: SplitSize | undefined, n: number): number {
  if (size === undefined) return 0;
  return size.kind === 'count' ? size.value : Math.round(size.value * n);
}

/**
 * A dot path (`source.board`) into a record, as a group key: strings and
 * numbers as they are, objects as JSON; undefined when the field is missing
 * or null.
 */
export function toGroupKey(record: unknown, path: string): string | undefined {
  let value: unknown = record;
  for (const name of path.split('.')) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<string, unknown>)[name];
  }
  if (value === undefined || value === null) return undefined;
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/**
 * Splits records into train / held-out / test so that records with the same
 * group key (windows of one source image) land in one part. Groups are
 * shuffled by `rng`, then offered in turn to held-out, then test: a part
 * takes a group when that brings it closer to its target (size + half the
 * group < target), the rest is train. Each part therefore ends within half
 * of the largest group of its target whenever heldout + test ≤ n. Reproducible
 * from the RNG's seed; a part may come out empty (the caller decides).
 */
export function splitByGroups(
  keys: readonly string[],
  targets: { readonly heldout: number; readonly test: number },
  rng: Rng,
): GroupedSplit {
  const members = new Map<string, number[]>();
  keys.forEach((key, i) => {
    const list = members.get(key);
    if (list === undefined) members.set(key, [i]);
    else list.push(i);
  });
  const parts: Record<SplitPart, number[]> = { train: [], heldout: [], test: [] };
  const groups: Record<SplitPart, number> = { train: 0, heldout: 0, test: 0 };
  for (const group of shuffled([...members.values()], rng)) {
    const fits = (part: 'heldout' | 'test') => parts[part].length + group.length / 2 < targets[part];
    const part: SplitPart = fits('heldout') ? 'heldout' : fits('test') ? 'test' : 'train';
    parts[part].push(...group);
    groups[part]++;
  }
  const ascending = (a: number, b: number) => a - b;
  for (const part of SPLIT_PARTS) parts[part].sort(ascending);
  return { parts, groups, targets: { heldout: targets.heldout, test: targets.test } };
}
