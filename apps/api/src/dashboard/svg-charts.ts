import { formatNumber, type Markup, markup } from './html.js';

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

/** One segment kind of a stacked bar chart. */
export interface StackPart {
  readonly name: string;
  readonly color: string;
}

interface Scale {
  x(v: number): number;
  y(v: number): number;
  xTicks: number[];
  yTicks: number[];
}

function toScale(xs: readonly number[], ys: readonly number[], yRange?: readonly [number, number]): Scale {
  const x0 = Math.min(...xs);
  const x1 = Math.max(...xs);
  let y0 = yRange ? yRange[0] : Math.min(...ys);
  let y1 = yRange ? yRange[1] : Math.max(...ys);
  if (y1 - y0 < 1e-12) {
    y0 -= 1;
    y1 += 1;
  } else if (!yRange) {
    const pad = (y1 - y0) * 0.05;
    y0 -= pad;
    y1 += pad;
  }
  const xSpan = x1 - x0 || 1;
  const xFrom = x1 === x0 ? x0 - 0.5 : x0;
  const xTicks = x1 === x0 ? [x0] : [...new Set([x0, Math.round((x0 + x1) / 2), x1])];
  return {
    x: (v) => M.left + ((v - xFrom) / (x1 === x0 ? 1 : xSpan)) * PW,
    y: (v) => M.top + PH - ((v - y0) / (y1 - y0)) * PH,
    xTicks,
    yTicks: [0, 1, 2, 3, 4].map((i) => y0 + ((y1 - y0) * i) / 4),
  };
}

const f = (v: number): string => v.toFixed(1);

function renderAxes(scale: Scale, yLabel: string): Markup {
  const grid = scale.yTicks.map(
    (t) => markup`<line x1="${M.left}" x2="${W - M.right}" y1="${f(scale.y(t))}" y2="${f(scale.y(t))}" stroke="#e5e8ef"/><text x="${M.left - 6}" y="${f(scale.y(t) + 4)}" text-anchor="end">${formatNumber(t)}</text>`,
  );
  const xs = scale.xTicks.map((t) => markup`<text x="${f(scale.x(t))}" y="${H - 12}" text-anchor="middle">${t}</text>`);
  return markup`${grid}${xs}<line x1="${M.left}" x2="${W - M.right}" y1="${M.top + PH}" y2="${M.top + PH}" stroke="#9aa3b5"/><text x="${W - M.right}" y="${H - 1}" text-anchor="end">step</text><text x="4" y="11">${yLabel}</text>`;
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
export function renderLineChart(title: string, yLabel: string, series: readonly LineSeries[], yRange?: readonly [number, number]): Markup {
  const xs = series.flatMap((s) => s.points.filter((p) => p[1] !== null).map((p) => p[0]));
  const ys = series.flatMap((s) => [...s.points.flatMap((p) => (p[1] === null ? [] : [p[1]])), ...(s.band ?? []).flatMap((b) => [b[1], b[2]])]);
  if (xs.length === 0) return emptyChart(title);
  const scale = toScale(xs, ys, yRange);
  const body = series.map((s) => {
    const outline = s.band && s.band.length > 0 ? [...s.band.map((b) => [b[0], b[2]] as const), ...[...s.band].reverse().map((b) => [b[0], b[1]] as const)] : [];
    const band = outline.length > 0 ? markup`<path class="band" fill="${s.color}" fill-opacity="0.18" d="M${outline.map(([x, y]) => `${f(scale.x(x))},${f(scale.y(y))}`).join('L')}Z"/>` : null;
    const dots = s.points
      .filter((p): p is readonly [number, number] => p[1] !== null)
      .map(([x, y]) => markup`<circle cx="${f(scale.x(x))}" cy="${f(scale.y(y))}" r="2.5" fill="${s.color}" data-step="${x}" data-value="${y}"><title>${s.name} · step ${x}: ${formatNumber(y)}</title></circle>`);
    return markup`${band}<path class="series" data-series="${s.name}" fill="none" stroke="${s.color}" stroke-width="1.8" d="${linePath(scale, s.points, s.connectGaps ?? false)}"/>${dots}`;
  });
  return chartSvg(title, markup`${renderAxes(scale, yLabel)}${body}`);
}

/** A stacked bar chart as inline SVG: one `rect` (with `data-step` and `data-part`) per step and part. */
export function renderStackedBars(title: string, yLabel: string, parts: readonly StackPart[], rows: readonly (readonly [number, readonly (number | null)[]])[]): Markup {
  const present = rows.filter(([, values]) => values.some((v) => v !== null));
  if (present.length === 0) return emptyChart(title);
  const totals = present.map(([, values]) => values.reduce<number>((sum, v) => sum + (v ?? 0), 0));
  const scale = toScale(present.map(([x]) => x), [0, ...totals], [0, Math.max(...totals) * 1.05 || 1]);
  const steps = present.map(([x]) => x);
  const span = steps.length > 1 ? (Math.max(...steps) - Math.min(...steps)) / (steps.length - 1) : 1;
  const barWidth = Math.max(1, Math.min(24, (PW / Math.max(steps.length, 1)) * 0.8, steps.length > 1 ? (scale.x(Math.min(...steps) + span) - scale.x(Math.min(...steps))) * 0.8 : 24));
  const bars = present.map(([x, values]) => {
    let base = 0;
    return values.map((v, i) => {
      if (v === null || v <= 0) return null;
      const top = scale.y(base + v);
      const height = scale.y(base) - top;
      base += v;
      const name = parts[i]?.name ?? '';
      return markup`<rect x="${f(scale.x(x) - barWidth / 2)}" y="${f(top)}" width="${f(barWidth)}" height="${f(height)}" fill="${parts[i]?.color ?? '#999'}" data-step="${x}" data-part="${name}"><title>${name} · step ${x}: ${formatNumber(v)}</title></rect>`;
    });
  });
  return chartSvg(title, markup`${renderAxes(scale, yLabel)}${bars}`);
}

/** A figure with a caption and a legend around a chart. */
export function renderFigure(title: string, svg: Markup, legend: readonly StackPart[]): Markup {
  const items = legend.map((l) => markup`<span><i style="background:${l.color}"></i>${l.name}</span>`);
  return markup`<figure data-chart="${title}"><figcaption>${title}</figcaption>${svg}<div class="legend muted">${items}</div></figure>`;
}
