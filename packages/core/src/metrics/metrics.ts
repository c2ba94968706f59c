/** Evaluation metrics of docs/method.md §8, computed in pixels. */

/** What evaluation needs to know about one scored sample. */
export interface SampleOutcome {
  readonly class: string;
  readonly subset?: string | undefined;
  /** Ground truth has a box. */
  readonly anomalous: boolean;
  /** The model answered a valid, non-empty box. */
  readonly predictedBox: boolean;
  /** IoU of that box with the ground truth (0 when there is none). */
  readonly iou: number;
  /** Evaluation IoU u: IoU for anomalous GT; 1 for a normal GT answered empty, else 0. */
  readonly u: number;
}

/** One row of metrics; a value is null when its denominator is empty. */
export interface MetricSet {
  readonly n: number;
  readonly n_ano: number;
  readonly n_nor: number;
  readonly acc: number | null;
  readonly f1: number | null;
  readonly mIoU: number | null;
  readonly mIoU_ano: number | null;
  readonly mIoU_nor: number | null;
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
}

export interface MetricReport {
  readonly tau: number;
  /** Over all samples. */
  readonly overall: MetricSet;
  readonly classes: Readonly<Record<string, MetricSet>>;
  readonly subsets: Readonly<Record<string, MetricSet>>;
  /** Unweighted mean of the per-class values; `n` is the number of classes. */
  readonly class_mean: MetricSet;
  /**
   * Unweighted mean over the defect classes, those with at least one anomalous
   * sample (docs/method.md §8.4). A class of normal samples only (DeepPCB's
   * `normal` windows), whose F1 is 0 or null by definition, is left out; its
   * samples count in `overall` and in their own class row. `n` is the number
   * of defect classes.
   */
  readonly defect_class_mean: MetricSet;
}

/** The evaluation IoU u of one sample (docs/method.md §8). */
export function computeEvalIou(anomalous: boolean, predictedBox: boolean, predictedEmpty: boolean, iou: number): number {
  if (anomalous) return predictedBox ? iou : 0;
  return predictedEmpty ? 1 : 0;
}

function ratio(num: number, den: number): number | null {
  return den > 0 ? num / den : null;
}

/** Running sums of one metric row: add samples one at a time, read the row at any point. */
export interface MetricSums {
  add(outcome: SampleOutcome): void;
  toMetricSet(): MetricSet;
}

/**
 * The counts and sums behind a MetricSet. Every metric of docs/method.md §8 is
 * a ratio of sums (hits/n, 2tp/(2tp+fp+fn), Σu/n …), so a row needs a few
 * numbers, never the samples: scoring streams in memory flat in their number.
 */
export function createMetricSums(tau: number): MetricSums {
  let n = 0;
  let hits = 0;
  let sumU = 0;
  let sumAno = 0;
  let sumNor = 0;
  let nAno = 0;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  return {
    add(o) {
      n++;
      if (o.u >= tau) hits++;
      sumU += o.u;
      const truePositive = o.anomalous && o.predictedBox && o.iou >= tau;
      if (o.anomalous) {
        nAno++;
        sumAno += o.u;
        if (truePositive) tp++;
        else fn++;
      } else {
        sumNor += o.u;
      }
      if (o.predictedBox && !truePositive) fp++;
    },
    toMetricSet() {
      const nNor = n - nAno;
      return {
        n,
        n_ano: nAno,
        n_nor: nNor,
        acc: ratio(hits, n),
        f1: ratio(2 * tp, 2 * tp + fp + fn),
        mIoU: ratio(sumU, n),
        mIoU_ano: ratio(sumAno, nAno),
        mIoU_nor: ratio(sumNor, nNor),
        tp,
        fp,
        fn,
      };
    },
  };
}

/** Acc@τ, F1@τ, mIoU, mIoU_ano and mIoU_nor over a set of samples. */
export function computeMetricSet(outcomes: readonly SampleOutcome[], tau: number): MetricSet {
  const sums = createMetricSums(tau);
  for (const o of outcomes) sums.add(o);
  return sums.toMetricSet();
}

function meanOf(sets: readonly MetricSet[], pick: (s: MetricSet) => number | null): number | null {
  const values = sets.map(pick).filter((v): v is number => v !== null);
  return values.length > 0 ? values.reduce((a, b) => a + b, 0) / values.length : null;
}

/** The unweighted class mean of per-class metric sets (counts are summed). */
export function computeClassMean(sets: readonly MetricSet[]): MetricSet {
  const sum = (pick: (s: MetricSet) => number) => sets.reduce((acc, s) => acc + pick(s), 0);
  return {
    n: sets.length,
    n_ano: sum((s) => s.n_ano),
    n_nor: sum((s) => s.n_nor),
    acc: meanOf(sets, (s) => s.acc),
    f1: meanOf(sets, (s) => s.f1),
    mIoU: meanOf(sets, (s) => s.mIoU),
    mIoU_ano: meanOf(sets, (s) => s.mIoU_ano),
    mIoU_nor: meanOf(sets, (s) => s.mIoU_nor),
    tp: sum((s) => s.tp),
    fp: sum((s) => s.fp),
    fn: sum((s) => s.fn),
  };
}

/**
 * The class mean over defect classes (docs/method.md §8.4): classes with no
 * anomalous sample are left out, the normal samples of a defect class stay in
 * it (its mIoU_nor, Acc and FP count them).
 */
export function computeDefectClassMean(sets: readonly MetricSet[]): MetricSet {
  return computeClassMean(sets.filter((s) => s.n_ano > 0));
}

/** A metric report built one sample at a time: overall, per class and per subset sums. */
export interface MetricReportSums {
  add(outcome: SampleOutcome): void;
  toReport(): MetricReport;
}

function byName(groups: ReadonlyMap<string, MetricSums>): [string, MetricSet][] {
  return [...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => [k, v.toMetricSet()]);
}

/** Running sums of `computeMetricReport`; adding samples in the same order gives the same report, bit for bit. */
export function createMetricReportSums(tau: number): MetricReportSums {
  const overall = createMetricSums(tau);
  const classes = new Map<string, MetricSums>();
  const subsets = new Map<string, MetricSums>();
  const group = (groups: Map<string, MetricSums>, key: string) => {
    let sums = groups.get(key);
    if (sums === undefined) groups.set(key, (sums = createMetricSums(tau)));
    return sums;
  };
  return {
    add(o) {
      overall.add(o);
      group(classes, o.class).add(o);
      if (o.subset !== undefined) group(subsets, o.subset).add(o);
    },
    toReport() {
      const classSets = byName(classes);
      return {
        tau,
        overall: overall.toMetricSet(),
        classes: Object.fromEntries(classSets),
        subsets: Object.fromEntries(byName(subsets)),
        class_mean: computeClassMean(classSets.map(([, s]) => s)),
        defect_class_mean: computeDefectClassMean(classSets.map(([, s]) => s)),
      };
    },
  };
}

/** Metrics overall, per class, per subset, the class mean and the class mean over defect classes. */
export function computeMetricReport(outcomes: readonly SampleOutcome[], tau: number): MetricReport {
  const sums = createMetricReportSums(tau);
  for (const o of outcomes) sums.add(o);
  return sums.toReport();
}
