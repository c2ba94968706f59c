import type { Box } from '../boxes/box.js';

/** What the statistics need of a manifest record. */
export interface StatsRecord {
  readonly class: string;
  readonly subset?: string | undefined;
  readonly width: number;
  readonly height: number;
  readonly box: Box | null;
}

/** Sample counts of one group (the whole manifest, a class or a subset). */
export interface GroupCounts {
  readonly n: number;
  readonly anomalous: number;
  readonly normal: number;
  /** normal / n. */
  readonly normal_share: number;
}

/** Summary of a list of numbers; quantiles interpolate linearly between order statistics. */
export interface Distribution {
  readonly min: number;
  readonly p25: number;
  readonly median: number;
  readonly p75: number;
  readonly max: number;
  readonly mean: number;
}

/** Box share of the image area below which a box counts as small, and from which it counts as large. */
export const BOX_SIZE_BUCKETS = Object.freeze({ small: 0.01, large: 0.1 });

/** What `differad data stats` reports. */
export interface DatasetStats extends GroupCounts {
  readonly classes: Readonly<Record<string, GroupCounts>>;
  readonly subsets: Readonly<Record<string, GroupCounts>>;
  /** Image sizes `W×H` and how many records have each. */
  readonly image_sizes: Readonly<Record<string, number>>;
  readonly boxes: {
    readonly n: number;
    readonly width: Distribution | null;
    readonly height: Distribution | null;
    /** Box area / image area. */
    readonly area_share: Distribution | null;
    /** small: area share < 1 %, medium: < 10 %, large: the rest. */
    readonly size_buckets: { readonly small: number; readonly medium: number; readonly large: number };
  };
}

function quantile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] as number;
  return a + ((sorted[hi] as number) - a) * (pos - lo);
}

/** min, quartiles, max and mean of `values`; null when there are none. */
export function computeDistribution(values: readonly number[]): Distribution | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.reduce((s, v) => s + v, 0) / sorted.length;
  return {
    min: sorted[0] as number,
    p25: quantile(sorted, 0.25),
    median: quantile(sorted, 0.5),
    p75: quantile(sorted, 0.75),
    max: sorted[sorted.length - 1] as number,
    mean,
  };
}

class Counter {
  n = 0;
  anomalous = 0;
  add(box: Box | null): void {
    this.n++;
    if (box !== null) this.anomalous++;
  }
  toCounts(): GroupCounts {
    const normal = this.n - this.anomalous;
    return { n: this.n, anomalous: this.anomalous, normal, normal_share: this.n > 0 ? normal / this.n : 0 };
  }
}

function toCountRecord(groups: Map<string, Counter>): Record<string, GroupCounts> {
  const out: Record<string, GroupCounts> = {};
  for (const key of [...groups.keys()].sort()) out[key] = (groups.get(key) as Counter).toCounts();
  return out;
}

function count(groups: Map<string, Counter>, key: string, box: Box | null): void {
  let c = groups.get(key);
  if (c === undefined) groups.set(key, (c = new Counter()));
  c.add(box);
}

/** Counts per class and subset, the normal share, image sizes and the box size distribution of a manifest. */
export function computeDatasetStats(records: Iterable<StatsRecord>): DatasetStats {
  const all = new Counter();
  const classes = new Map<string, Counter>();
  const subsets = new Map<string, Counter>();
  const sizes = new Map<string, number>();
  const widths: number[] = [];
  const heights: number[] = [];
  const shares: number[] = [];
  for (const r of records) {
    all.add(r.box);
    count(classes, r.class, r.box);
    if (r.subset !== undefined) count(subsets, r.subset, r.box);
    const size = `${r.width}×${r.height}`;
    sizes.set(size, (sizes.get(size) ?? 0) + 1);
    if (r.box === null) continue;
    const w = r.box[2] - r.box[0];
    const h = r.box[3] - r.box[1];
    widths.push(w);
    heights.push(h);
    shares.push((w * h) / (r.width * r.height));
  }
  const small = shares.filter((s) => s < BOX_SIZE_BUCKETS.small).length;
  const large = shares.filter((s) => s >= BOX_SIZE_BUCKETS.large).length;
  return {
    ...all.toCounts(),
    classes: toCountRecord(classes),
    subsets: toCountRecord(subsets),
    image_sizes: Object.fromEntries([...sizes.entries()].sort((a, b) => b[1] - a[1])),
    boxes: {
      n: widths.length,
      width: computeDistribution(widths),
      height: computeDistribution(heights),
      area_share: computeDistribution(shares),
      size_buckets: { small, medium: shares.length - small - large, large },
    },
  };
}
