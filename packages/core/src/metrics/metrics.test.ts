import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type MetricSet,
  type SampleOutcome,
  computeClassMean,
  computeDefectClassMean,
  computeEvalIou,
  computeMetricReport,
  computeMetricSet,
} from './metrics.js';

function outcome(
  cls: string,
  subset: string | undefined,
  anomalous: boolean,
  prediction: 'box' | 'empty' | 'invalid',
  iou = 0,
): SampleOutcome {
  const predictedBox = prediction === 'box';
  return {
    class: cls,
    subset,
    anomalous,
    predictedBox,
    iou: predictedBox && anomalous ? iou : 0,
    u: computeEvalIou(anomalous, predictedBox, prediction === 'empty', iou),
  };
}

function expectMetrics(actual: MetricSet, expected: Partial<Record<keyof MetricSet, number | null>>): void {
  for (const [key, value] of Object.entries(expected)) {
    const got = actual[key as keyof MetricSet];
    if (value === null) expect(got, key).toBeNull();
    else expect(got, key).toBeCloseTo(value as number, 6);
  }
}

describe('computeEvalIou (docs/method.md §8)', () => {
  it('anomalous GT: IoU of a box, 0 without one', () => {
    expect(computeEvalIou(true, true, false, 0.42)).toBe(0.42);
    expect(computeEvalIou(true, false, true, 0)).toBe(0);
    expect(computeEvalIou(true, false, false, 0)).toBe(0);
  });

  it('normal GT: 1 for an empty answer, 0 for a box or an invalid answer', () => {
    expect(computeEvalIou(false, false, true, 0)).toBe(1);
    expect(computeEvalIou(false, true, false, 0)).toBe(0);
    expect(computeEvalIou(false, false, false, 0)).toBe(0);
  });
});

// tau = 0.3. Hand-computed below.
const SAMPLES: SampleOutcome[] = [
  outcome('A', 's1', true, 'box', 0.8), // TP, hit
  outcome('A', 's1', true, 'box', 0.1), // IoU < τ: FP and FN
  outcome('A', 's2', true, 'empty'), // FN
  outcome('B', 's2', false, 'empty'), // u = 1, hit
  outcome('B', 's2', false, 'box'), // box on a normal sample: FP, u = 0
  outcome('B', 's1', true, 'box', 0.3), // IoU = τ is a TP, hit
  outcome('B', 's2', false, 'empty'), // u = 1, hit
];

describe('computeMetricSet', () => {
  it('overall metrics of the hand-computed set', () => {
    const m = computeMetricSet(SAMPLES, 0.3);
    expect({ n: m.n, n_ano: m.n_ano, n_nor: m.n_nor, tp: m.tp, fp: m.fp, fn: m.fn }).toEqual({
      n: 7,
      n_ano: 4,
      n_nor: 3,
      tp: 2,
      fp: 2,
      fn: 2,
    });
    expectMetrics(m, {
      acc: 4 / 7,
      f1: 4 / (4 + 2 + 2),
      mIoU: 3.2 / 7,
      mIoU_ano: 1.2 / 4,
      mIoU_nor: 2 / 3,
    });
  });

  it('counts an anomalous GT with a box of IoU < τ as both FP and FN', () => {
    const m = computeMetricSet([outcome('A', undefined, true, 'box', 0.29)], 0.3);
    expect([m.tp, m.fp, m.fn]).toEqual([0, 1, 1]);
    expect(m.f1).toBe(0);
    expect(m.acc).toBe(0);
  });

  it('counts an invalid answer on a normal sample as neither FP nor a hit', () => {
    const m = computeMetricSet([outcome('A', undefined, false, 'invalid')], 0.3);
    expect([m.tp, m.fp, m.fn]).toEqual([0, 0, 0]);
    expect(m.acc).toBe(0);
    expect(m.mIoU_nor).toBe(0);
    expect(m.f1).toBeNull();
  });

  it('gives null when a denominator is empty', () => {
    const none = computeMetricSet([], 0.3);
    expect(none).toMatchObject({ n: 0, acc: null, f1: null, mIoU: null, mIoU_ano: null, mIoU_nor: null });
    const normalsOnly = computeMetricSet([outcome('A', undefined, false, 'empty'), outcome('A', undefined, false, 'empty')], 0.3);
    expectMetrics(normalsOnly, { acc: 1, mIoU: 1, mIoU_nor: 1, mIoU_ano: null, f1: null });
    const anomalousOnly = computeMetricSet([outcome('A', undefined, true, 'box', 0.5)], 0.3);
    expectMetrics(anomalousOnly, { acc: 1, f1: 1, mIoU: 0.5, mIoU_ano: 0.5, mIoU_nor: null });
  });

  it('uses the given τ', () => {
    const m = computeMetricSet(SAMPLES, 0.5);
    // hits: 0.8, 1, 1 ; TP only the 0.8 box; FP: 0.1 box, 0.3 box, normal box; FN: 3.
    expectMetrics(m, { acc: 3 / 7, f1: 2 / (2 + 3 + 3) });
  });
});

describe('computeMetricReport', () => {
  const report = computeMetricReport(SAMPLES, 0.3);

  it('reports per class', () => {
    expect(Object.keys(report.classes)).toEqual(['A', 'B']);
    expectMetrics(report.classes.A!, { n: 3, acc: 1 / 3, f1: 2 / 5, mIoU: 0.3, mIoU_ano: 0.3, mIoU_nor: null });
    expectMetrics(report.classes.B!, { n: 4, acc: 3 / 4, f1: 2 / 3, mIoU: 2.3 / 4, mIoU_ano: 0.3, mIoU_nor: 2 / 3 });
  });

  it('reports per subset', () => {
    expect(Object.keys(report.subsets)).toEqual(['s1', 's2']);
    expectMetrics(report.subsets.s1!, { n: 3, acc: 2 / 3, f1: 4 / 6, mIoU: 0.4, mIoU_nor: null });
    expectMetrics(report.subsets.s2!, { n: 4, acc: 2 / 4, f1: 0, mIoU: 0.5, mIoU_ano: 0, mIoU_nor: 2 / 3 });
  });

  it('reports the overall set and τ', () => {
    expect(report.tau).toBe(0.3);
    expect(report.overall).toEqual(computeMetricSet(SAMPLES, 0.3));
  });

  it('class mean is the unweighted mean of per-class values, skipping nulls', () => {
    expectMetrics(report.class_mean, {
      n: 2,
      acc: (1 / 3 + 3 / 4) / 2,
      f1: (2 / 5 + 2 / 3) / 2,
      mIoU: (0.3 + 0.575) / 2,
      mIoU_ano: 0.3,
      mIoU_nor: 2 / 3, // only class B has normal samples
    });
    // …which differs from the sample-weighted overall figure.
    expect(report.class_mean.mIoU).not.toBeCloseTo(report.overall.mIoU!, 3);
  });

  it('leaves samples without a subset out of the subset table only', () => {
    const r = computeMetricReport([outcome('A', undefined, true, 'box', 0.9), outcome('A', 'x', false, 'empty')], 0.3);
    expect(Object.keys(r.subsets)).toEqual(['x']);
    expect(r.subsets.x!.n).toBe(1);
    expect(r.overall.n).toBe(2);
    expect(r.classes.A!.n).toBe(2);
  });

  it('defect class mean equals the class mean when every class has anomalous samples', () => {
    expect(report.defect_class_mean).toEqual(report.class_mean);
  });

  it('computeClassMean of nothing has null metrics', () => {
    expect(computeClassMean([])).toMatchObject({ n: 0, acc: null, f1: null, mIoU: null });
  });
});

describe('class mean over defect classes (docs/method.md §8.4)', () => {
  // DeepPCB-like: two defect classes (one with a normal window of its own) and a class of normal windows only.
  const samples = [
    outcome('open', undefined, true, 'box', 0.8), // TP, u 0.8
    outcome('open', undefined, true, 'empty'), // FN, u 0
    outcome('open', undefined, false, 'empty'), // u 1
    outcome('short', undefined, true, 'box', 0.5), // TP, u 0.5
    outcome('normal', undefined, false, 'empty'), // u 1
    outcome('normal', undefined, false, 'box'), // FP, u 0
  ];
  const r = computeMetricReport(samples, 0.3);

  it('the class "normal" has F1 0 (no TP or FN can exist) and drags the plain class mean down', () => {
    expectMetrics(r.classes.normal!, { n: 2, acc: 1 / 2, f1: 0, mIoU: 0.5, mIoU_ano: null, mIoU_nor: 0.5 });
    expectMetrics(r.class_mean, {
      n: 3,
      acc: (2 / 3 + 1 + 1 / 2) / 3,
      f1: (2 / 3 + 1 + 0) / 3,
      mIoU: (0.6 + 0.5 + 0.5) / 3,
      mIoU_ano: 0.45,
      mIoU_nor: 0.75,
    });
  });

  it('leaves normal-only classes out and keeps a defect class its own normal samples', () => {
    expectMetrics(r.classes.open!, { n: 3, acc: 2 / 3, f1: 2 / 3, mIoU: 0.6, mIoU_ano: 0.4, mIoU_nor: 1 });
    expectMetrics(r.defect_class_mean, {
      n: 2,
      n_ano: 3,
      n_nor: 1,
      acc: (2 / 3 + 1) / 2,
      f1: (2 / 3 + 1) / 2,
      mIoU: 0.55,
      mIoU_ano: 0.45,
      mIoU_nor: 1,
      tp: 2,
      fp: 0,
      fn: 1,
    });
  });

  it('the normal-only samples still count in the overall row', () => {
    expectMetrics(r.overall, { n: 6, n_nor: 3, acc: 4 / 6, f1: 4 / 6, mIoU: 3.3 / 6, fp: 1 });
  });

  it('is null with no defect class at all', () => {
    expect(computeDefectClassMean([r.classes.normal!])).toMatchObject({ n: 0, acc: null, f1: null });
  });
});

const arbOutcome: fc.Arbitrary<SampleOutcome> = fc
  .record({
    cls: fc.constantFrom('a', 'b', 'c'),
    subset: fc.constantFrom(undefined, 'x', 'y'),
    anomalous: fc.boolean(),
    prediction: fc.constantFrom('box' as const, 'empty' as const, 'invalid' as const),
    iou: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .map((r) => outcome(r.cls, r.subset, r.anomalous, r.prediction, r.iou));

describe('metric properties', () => {
  it('every metric is in [0, 1] and the counts add up', () => {
    fc.assert(
      fc.property(fc.array(arbOutcome, { maxLength: 40 }), fc.double({ min: 0.05, max: 0.95, noNaN: true }), (samples, tau) => {
        const report = computeMetricReport(samples, tau);
        const sets = [
          report.overall,
          report.class_mean,
          report.defect_class_mean,
          ...Object.values(report.classes),
          ...Object.values(report.subsets),
        ];
        for (const s of sets) {
          for (const v of [s.acc, s.f1, s.mIoU, s.mIoU_ano, s.mIoU_nor]) {
            if (v !== null) {
              expect(v).toBeGreaterThanOrEqual(0);
              expect(v).toBeLessThanOrEqual(1);
            }
          }
        }
        const o = report.overall;
        expect(o.n_ano + o.n_nor).toBe(samples.length);
        expect(o.tp + o.fn).toBe(o.n_ano);
        expect(o.tp + o.fp).toBe(samples.filter((s) => s.predictedBox).length);
        const classTotal = Object.values(report.classes).reduce((a, s) => a + s.n, 0);
        expect(classTotal).toBe(samples.length);
      }),
    );
  });
});
