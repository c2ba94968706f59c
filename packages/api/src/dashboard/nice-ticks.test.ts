import { describe, expect, it } from 'vitest';
import { computeNiceTicks, type TickKind, toPowerLabel } from './nice-ticks.js';

const ticks = (min: number, max: number, kind: TickKind, maxTicks?: number) => {
  const t = computeNiceTicks(min, max, { kind, ...(maxTicks === undefined ? {} : { maxTicks }) });
  return { ticks: t.ticks, labels: t.labels, exponent: t.exponent };
};

describe('computeNiceTicks', () => {
  it('gives a count chart whole numbers, never -0.2000 … 4.200', () => {
    expect(ticks(0, 4, 'count')).toEqual({ ticks: [0, 1, 2, 3, 4], labels: ['0', '1', '2', '3', '4'], exponent: 0 });
    expect(ticks(0, 6, 'count')).toEqual({ ticks: [0, 2, 4, 6], labels: ['0', '2', '4', '6'], exponent: 0 });
    expect(ticks(0, 1, 'count').labels).toEqual(['0', '1']);
    expect(ticks(3, 97, 'count').labels).toEqual(['0', '20', '40', '60', '80', '100']);
    // Steps 0..11 on an x axis of at most 8 ticks.
    expect(ticks(0, 11, 'count', 8).ticks).toEqual([0, 2, 4, 6, 8, 10, 12]);
  });

  it('gives a rate chart 1-2-5 steps with one number of decimals, inside [0, 1]', () => {
    expect(ticks(0.12, 0.87, 'rate')).toEqual({
      ticks: [0, 0.2, 0.4, 0.6, 0.8, 1],
      labels: ['0.0', '0.2', '0.4', '0.6', '0.8', '1.0'],
      exponent: 0,
    });
    expect(ticks(0.305, 0.42, 'rate')).toEqual({ ticks: [0.3, 0.35, 0.4, 0.45], labels: ['0.30', '0.35', '0.40', '0.45'], exponent: 0 });
    expect(ticks(0.305, 0.42, 'rate', 7).labels).toEqual(['0.30', '0.32', '0.34', '0.36', '0.38', '0.40', '0.42']);
    expect(ticks(0, 0.05, 'rate').labels).toEqual(['0.00', '0.01', '0.02', '0.03', '0.04', '0.05']);
  });

  it('handles negative values: symmetric labels and no -0', () => {
    expect(ticks(-0.73, 1.4, 'value')).toEqual({
      ticks: [-1, -0.5, 0, 0.5, 1, 1.5],
      labels: ['-1.0', '-0.5', '0.0', '0.5', '1.0', '1.5'],
      exponent: 0,
    });
    expect(ticks(-3, 2, 'count').labels).toEqual(['-3', '-2', '-1', '0', '1', '2']);
    expect(ticks(-0.04, -0.01, 'value').labels).toEqual(['-0.04', '-0.03', '-0.02', '-0.01']);
    expect(ticks(-0.04, -0.01, 'value').labels.some((l) => l.startsWith('-0.00'))).toBe(false);
  });

  it('puts a single point in the middle of a range around it', () => {
    expect(ticks(3, 3, 'count')).toEqual({ ticks: [2, 3, 4], labels: ['2', '3', '4'], exponent: 0 });
    expect(ticks(0.42, 0.42, 'value')).toEqual({ ticks: [0.35, 0.4, 0.45, 0.5], labels: ['0.35', '0.40', '0.45', '0.50'], exponent: 0 });
    expect(ticks(5, 5, 'value').labels).toEqual(['4.5', '5.0', '5.5']);
  });

  it('gives all-equal values a range that stays where the kind can be', () => {
    expect(ticks(0, 0, 'count').labels).toEqual(['0', '1']);
    expect(ticks(0, 0, 'rate').labels).toEqual(['0.0', '0.2', '0.4', '0.6', '0.8', '1.0']);
    expect(ticks(1, 1, 'rate').labels).toEqual(['0.5', '0.6', '0.7', '0.8', '0.9', '1.0']);
    expect(ticks(0, 0, 'value').labels).toEqual(['-1.0', '-0.5', '0.0', '0.5', '1.0']);
  });

  it('counts huge and tiny values in units of a power of ten', () => {
    expect(ticks(0, 3.2e7, 'value')).toEqual({ ticks: [0, 1e7, 2e7, 3e7, 4e7], labels: ['0', '1', '2', '3', '4'], exponent: 7 });
    expect(ticks(0, 3.1e-5, 'value')).toEqual({ ticks: [0, 1e-5, 2e-5, 3e-5, 4e-5], labels: ['0', '1', '2', '3', '4'], exponent: -5 });
    expect(ticks(2.1e6, 4.9e6, 'value').labels).toEqual(['2', '3', '4', '5']);
    expect(ticks(2.1e6, 4.9e6, 'value', 7).labels).toEqual(['2.0', '2.5', '3.0', '3.5', '4.0', '4.5', '5.0']);
    expect(ticks(0.0012, 0.0031, 'value').labels).toEqual(['0.0010', '0.0015', '0.0020', '0.0025', '0.0030', '0.0035']);
    expect(toPowerLabel(-5)).toBe('×10⁻⁵');
    expect(toPowerLabel(7)).toBe('×10⁷');
    expect(toPowerLabel(0)).toBe('');
  });

  it('covers the values with at most maxTicks ticks, ends on the domain, swaps reversed bounds', () => {
    for (const [min, max, kind] of [
      [0.001, 987, 'value'],
      [-5e-7, 3e-7, 'value'],
      [17, 18, 'count'],
      [0.999, 1, 'rate'],
      [-1e9, 1e9, 'value'],
    ] as const) {
      for (const maxTicks of [1, 3, 6, 10]) {
        const t = computeNiceTicks(max, min, { kind, maxTicks });
        expect(t.ticks.length).toBeLessThanOrEqual(Math.max(3, maxTicks));
        expect(t.domain[0]).toBeLessThanOrEqual(min);
        expect(t.domain[1]).toBeGreaterThanOrEqual(max);
        expect(t.domain).toEqual([t.ticks[0], t.ticks[t.ticks.length - 1]]);
        expect(new Set(t.labels.map((l) => l.split('.')[1]?.length ?? 0)).size).toBe(1);
      }
    }
    expect(() => computeNiceTicks(0, Number.NaN, { kind: 'value' })).toThrow(RangeError);
  });
});
