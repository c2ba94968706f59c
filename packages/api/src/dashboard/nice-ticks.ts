/**
 * What a chart's values are, which decides its ticks: `count` (whole numbers:
 * integer ticks, no decimals), `rate` (a fraction in [0, 1]: ticks stay inside
 * it) or `value` (anything, negative included).
 */
export type TickKind = 'count' | 'rate' | 'value';

/** Options of {@link computeNiceTicks}. */
export interface NiceTickOptions {
  readonly kind: TickKind;
  /** At most this many ticks (at least 3, so that a range across 0 fits; default 6). */
  readonly maxTicks?: number;
}

/** An axis: its ticks, their labels, and the domain they span. */
export interface NiceTicks {
  /** Ascending multiples of `step`; the first and the last are the domain's ends. */
  readonly ticks: readonly number[];
  /** One label per tick, every one with the same number of decimals (none for counts), in units of 10^`exponent`. */
  readonly labels: readonly string[];
  readonly domain: readonly [number, number];
  /** 1, 2 or 5 times a power of ten (at least 1 for counts). */
  readonly step: number;
  /** 0 for plain labels; otherwise the labels are multiples of 10^exponent, which the axis title says ({@link toPowerLabel}). */
  readonly exponent: number;
}

const MULTIPLIERS = [1, 2, 5] as const;
/** Relative slack for the floor/ceil of a bound that is a tick up to rounding. */
const EPS = 1e-9;

/** `m × 10^p` without the rounding of `m * 10 ** p` for negative `p` (0.1 * 3 is not 0.3; 3 / 10 is). */
const scaled = (m: number, p: number): number => (p < 0 ? m / 10 ** -p : m * 10 ** p);
const noNegativeZero = (v: number): number => (v === 0 ? 0 : v);

/** The range to tick when every value is `v`: a step either side for counts, half a decade of `v` otherwise. */
function padFlat(v: number, kind: TickKind): [number, number] {
  if (kind === 'count') return [v >= 0 ? Math.max(0, v - 1) : v - 1, v + 1];
  const pad = v === 0 ? 1 : scaled(5, Math.floor(Math.log10(Math.abs(v))) - 1);
  const range: [number, number] = [v - pad, v + pad];
  return kind === 'rate' && v >= 0 && v <= 1 ? [Math.max(0, range[0]), Math.min(1, range[1])] : range;
}

/** The smallest 1-2-5 step (integer for counts) whose ticks over [lo, hi] are at most `maxTicks`. */
function chooseStep(lo: number, hi: number, maxTicks: number, integer: boolean): { m: number; p: number; first: number; last: number } {
  let p = Math.floor(Math.log10((hi - lo) / (maxTicks - 1)));
  if (integer) p = Math.max(0, p);
  for (; ; p++) {
    for (const m of MULTIPLIERS) {
      const step = scaled(m, p);
      const first = Math.floor(lo / step + EPS);
      const last = Math.ceil(hi / step - EPS);
      if (last - first + 1 <= maxTicks) return { m, p, first, last };
    }
  }
}

/**
 * Axis ticks a person reads at a glance: steps of 1, 2 or 5 times a power of
 * ten covering [min, max], with the domain widened to the outer ticks.
 * Counts get integer ticks and labels; a rate's ticks stay in [0, 1] when its
 * values do; every label of an axis has the same number of decimals, the
 * step's. When the ticks reach 10^6 or all stay under 10^-3 the labels count
 * in units of a power of ten (`exponent`), so `0.00003` reads `3` with `×10⁻⁵`
 * on the axis. A single value (min = max) gets a range around it.
 */
export function computeNiceTicks(min: number, max: number, options: NiceTickOptions): NiceTicks {
  if (!Number.isFinite(min) || !Number.isFinite(max)) throw new RangeError(`ticks need finite bounds, got ${min} and ${max}`);
  const maxTicks = Math.max(3, Math.floor(options.maxTicks ?? 6));
  let lo = Math.min(min, max);
  let hi = Math.max(min, max);
  if (hi - lo <= Math.max(Math.abs(lo), Math.abs(hi)) * 1e-12) [lo, hi] = padFlat(lo, options.kind);
  const { m, p, first, last } = chooseStep(lo, hi, maxTicks, options.kind === 'count');
  const ticks = Array.from({ length: last - first + 1 }, (_, i) => noNegativeZero(scaled((first + i) * m, p)));
  const maxAbs = Math.max(...ticks.map(Math.abs));
  const exponent = maxAbs >= 1e6 || maxAbs < 1e-3 ? Math.floor(Math.log10(maxAbs)) : 0;
  const decimals = Math.max(0, exponent - p);
  const labels = ticks.map((_, i) =>
    scaled((first + i) * m, p - exponent)
      .toFixed(decimals)
      .replace(/^-(0(\.0+)?)$/, '$1'),
  );
  return { ticks, labels, domain: [ticks[0]!, ticks[ticks.length - 1]!], step: scaled(m, p), exponent };
}

const SUPERSCRIPT: Record<string, string> = { '-': '⁻', 0: '⁰', 1: '¹', 2: '²', 3: '³', 4: '⁴', 5: '⁵', 6: '⁶', 7: '⁷', 8: '⁸', 9: '⁹' };

/** What an axis title adds for labels in units of 10^exponent: `×10⁻⁵`; empty for 0. */
export function toPowerLabel(exponent: number): string {
  if (exponent === 0) return '';
  return `×10${[...String(exponent)].map((c) => SUPERSCRIPT[c] ?? c).join('')}`;
}
