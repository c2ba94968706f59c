import { formatNumber, type Markup, markup } from './html.js';
import { computeNiceTicks, type NiceTicks, type TickKind, toPowerLabel } from './nice-ticks.js';

const W = 520;
const H = 210;
const M = { left: 52, right: 12, top: 22, bottom: 30 };
const PW = W - M.left - M.right;
const PH = H - M.top - M.bottom;

/** One line of a chart; points with a null value are gaps (or skipped, with `connectGaps`). */
export interface LineSeries {
  readonly name: string;
  readonly color: string;
  readonly points: readonly (readonly [number, number | null])[];
  /** A shaded band around the line: `[step, low, high]`. */
  readonly band?: readonly (readonly [number, number, number])[];
  readonly connectGaps?: boolean;
}

/** One segment kind of a stacked bar chart, or one legend entry. */
export interface StackPart {
  readonly name: string;
  readonly color: string;
  /** What the part is: the legend entry's tooltip. */
  readonly help?: string;
}

/** A chart's y axis: its title, what its values are (which decides the ticks) and a range it always shows. */
export interface YAxis {
  readonly label: string;
  readonly kind: TickKind;
  readonly range?: readonly [number, number];
}

/** One stacked bar: a step's parts (segments in {@link StackPart} order) and the total they sum to. */
export interface StackedBar {
  readonly step: number;
  readonly parts: readonly number[];
  readonly total: number;
  /** More about the step, for the bar's tooltip. */
  readonly note?: string;
}

interface Scale {
  x(v: number): number;
  y(v: number): number;
  xTicks: readonly number[];
  yTicks: NiceTicks;
}

/**
 * The plot's scales: y over the axis's nice ticks (covering `ys` and the
 * axis range), x over the steps, with integer step ticks; `xPad` widens the
 * x domain by that many steps each side (half a bar for bar charts).
 */
function toScale(xs: readonly number[], ys: readonly number[], axis: YAxis, xPad = 0): Scale {
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  const yTicks = computeNiceTicks(Math.min(...ys, ...(axis.range ?? [])), Math.max(...ys, ...(axis.range ?? [])), {
    kind: axis.kind,
    maxTicks: 6,
  });
  const [y0, y1] = yTicks.domain;
  const xTicks = x1 === x0 ? [x0] : computeNiceTicks(x0, x1, { kind: 'count', maxTicks: 8 }).ticks.filter((t) => t >= x0 && t <= x1);
  const from = x1 === x0 ? x0 - 0.5 : x0 - xPad;
  const span = x1 === x0 ? 1 : x1 - x0 + 2 * xPad;
  return {
    x: (v) => M.left + ((v - from) / span) * PW,
    y: (v) => M.top + PH - ((v - y0) / (y1 - y0)) * PH,
    xTicks,
    yTicks,
  };
}

const f = (v: number): string => v.toFixed(1);

function renderAxes(scale: Scale, axis: YAxis): Markup {
  const { ticks, labels, exponent } = scale.yTicks;
  const grid = ticks.map(
    (t, i) =>
      markup`<line x1="${M.left}" x2="${W - M.right}" y1="${f(scale.y(t))}" y2="${f(scale.y(t))}" stroke="#e5e8ef"/><text class="tick-y" x="${M.left - 6}" y="${f(scale.y(t) + 4)}" text-anchor="end">${labels[i]}</text>`,
  );
  const xs = scale.xTicks.map((t) => markup`<text class="tick-x" x="${f(scale.x(t))}" y="${H - 12}" text-anchor="middle">${t}</text>`);
  const power = toPowerLabel(exponent);
  return markup`${grid}${xs}<line x1="${M.left}" x2="${W - M.right}" y1="${M.top + PH}" y2="${M.top + PH}" stroke="#9aa3b5"/><text x="${W - M.right}" y="${H - 1}" text-anchor="end">step</text><text class="axis-y" x="4" y="11">${axis.label}${power === '' ? '' : ` (${power})`}</text>`;
}

/** The `<svg>` element of a chart titled `title` around `content`. */
function chartSvg(title: string, content: Markup): Markup {
  return markup`<svg class="chart" role="img" aria-label="${title}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}">${content}</svg>`;
}

function emptyChart(title: string): Markup {
  return markup`<svg class="chart empty" role="img" aria-label="${title}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}"><text x="${W / 2}" y="${H / 2}" text-anchor="middle">no data yet</text></svg>`;
}

function linePath(scale: Scale, points: readonly (readonly [number, number | null])[], connectGaps: boolean): string {
  let d = '';
  let pen = false;
  for (const [x, y] of points) {
    if (y === null) {
      if (!connectGaps) pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${f(scale.x(x))},${f(scale.y(y))}`;
    pen = true;
  }
  return d;
}

/** A line chart as inline SVG: one `path.series` and one `circle` (with `data-step`) per point, optional ± bands. */
export function renderLineChart(title: string, axis: YAxis, series: readonly LineSeries[]): Markup {
  const xs = series.flatMap((s) => s.points.filter((p) => p[1] !== null).map((p) => p[0]));
  const ys = series.flatMap((s) => [
    ...s.points.flatMap((p) => (p[1] === null ? [] : [p[1]])),
    ...(s.band ?? []).flatMap((b) => [b[1], b[2]]),
  ]);
  if (xs.length === 0) return emptyChart(title);
  const scale = toScale(xs, ys, axis);
  const body = series.map((s) => {
    const outline =
      s.band && s.band.length > 0
        ? [...s.band.map((b) => [b[0], b[2]] as const), ...[...s.band].reverse().map((b) => [b[0], b[1]] as const)]
        : [];
    const band =
      outline.length > 0
        ? markup`<path class="band" fill="${s.color}" fill-opacity="0.18" d="M${outline.map(([x, y]) => `${f(scale.x(x))},${f(scale.y(y))}`).join('L')}Z"/>`
        : null;
    const dots = s.points
      .filter((p): p is readonly [number, number] => p[1] !== null)
      .map(
        ([x, y]) =>
          markup`<circle cx="${f(scale.x(x))}" cy="${f(scale.y(y))}" r="2.5" fill="${s.color}" data-step="${x}" data-value="${y}"><title>${s.name} · step ${x}: ${formatNumber(y)}</title></circle>`,
      );
    return markup`${band}<path class="series" data-series="${s.name}" fill="none" stroke="${s.color}" stroke-width="1.8" d="${linePath(scale, s.points, s.connectGaps ?? false)}"/>${dots}`;
  });
  return chartSvg(title, markup`${renderAxes(scale, axis)}${body}`);
}

/**
 * A stacked bar chart as inline SVG: per step a `g.bar` (`data-step`,
 * `data-total`) of one `rect` per non-zero part (`data-part`, `data-value`),
 * stacked from 0, so a bar's height is its total.
 */
export function renderStackedBars(title: string, axis: YAxis, parts: readonly StackPart[], bars: readonly StackedBar[]): Markup {
  if (bars.length === 0) return emptyChart(title);
  const steps = bars.map((b) => b.step);
  const scale = toScale(steps, [0, ...bars.map((b) => b.total)], axis, 0.5);
  const pitch = steps.length > 1 ? Math.abs(scale.x(Math.max(...steps)) - scale.x(Math.min(...steps))) / (steps.length - 1) : PW;
  const barWidth = Math.max(1, Math.min(24, pitch * 0.8));
  const body = bars.map(({ step, parts: values, total, note }) => {
    let base = 0;
    const rects = values.map((v, i) => {
      if (!(v > 0)) return null;
      const top = scale.y(base + v);
      const height = scale.y(base) - top;
      base += v;
      const name = parts[i]?.name ?? '';
      const share = total > 0 ? ` (${Math.round((v / total) * 100)}% of ${formatNumber(total)})` : '';
      return markup`<rect x="${f(scale.x(step) - barWidth / 2)}" y="${f(top)}" width="${f(barWidth)}" height="${f(height)}" fill="${parts[i]?.color ?? '#999'}" data-part="${name}" data-value="${v}"><title>${name} · step ${step}: ${formatNumber(v)}${share}${i === 0 && note ? ` · ${note}` : ''}</title></rect>`;
    });
    return markup`<g class="bar" data-step="${step}" data-total="${total}">${rects}</g>`;
  });
  return chartSvg(title, markup`${renderAxes(scale, axis)}${body}`);
}

/** A figure with a caption, a legend (each entry's `help` as its tooltip) and an optional note around a chart. */
export function renderFigure(title: string, svg: Markup, legend: readonly StackPart[], note?: string): Markup {
  const items = legend.map(
    (l) => markup`<span${l.help === undefined ? null : markup` title="${l.help}"`}><i style="background:${l.color}"></i>${l.name}</span>`,
  );
  return markup`<figure data-chart="${title}"><figcaption>${title}</figcaption>${svg}<div class="legend muted">${items}</div>${note === undefined ? null : markup`<p class="note muted">${note}</p>`}</figure>`;
}
