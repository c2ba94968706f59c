import { escapeHtml, formatNumber } from './html.js';

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

function renderAxes(scale: Scale, yLabel: string): string {
  const grid = scale.yTicks
    .map((t) => `<line x1="${M.left}" x2="${W - M.right}" y1="${f(scale.y(t))}" y2="${f(scale.y(t))}" stroke="#e5e8ef"/><text x="${M.left - 6}" y="${f(scale.y(t) + 4)}" text-anchor="end">${formatNumber(t)}</text>`)
    .join('');
  const xs = scale.xTicks.map((t) => `<text x="${f(scale.x(t))}" y="${H - 12}" text-anchor="middle">${t}</text>`).join('');
  return `${grid}${xs}<line x1="${M.left}" x2="${W - M.right}" y1="${M.top + PH}" y2="${M.top + PH}" stroke="#9aa3b5"/><text x="${W - M.right}" y="${H - 1}" text-anchor="end">step</text><text x="4" y="11">${escapeHtml(yLabel)}</text>`;
}

function emptyChart(title: string): string {
  return `<svg class="chart empty" role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}"><text x="${W / 2}" y="${H / 2}" text-anchor="middle">no data yet</text></svg>`;
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
export function renderLineChart(title: string, yLabel: string, series: readonly LineSeries[], yRange?: readonly [number, number]): string {
  const xs = series.flatMap((s) => s.points.filter((p) => p[1] !== null).map((p) => p[0]));
  const ys = series.flatMap((s) => [...s.points.flatMap((p) => (p[1] === null ? [] : [p[1]])), ...(s.band ?? []).flatMap((b) => [b[1], b[2]])]);
  if (xs.length === 0) return emptyChart(title);
  const scale = toScale(xs, ys, yRange);
  const body = series
    .map((s) => {
      const band =
        s.band && s.band.length > 0
          ? `<path class="band" fill="${s.color}" fill-opacity="0.18" d="M${s.band.map((b) => `${f(scale.x(b[0]))},${f(scale.y(b[2]))}`).join('L')}L${[...s.band]
              .reverse()
              .map((b) => `${f(scale.x(b[0]))},${f(scale.y(b[1]))}`)
              .join('L')}Z"/>`
          : '';
      const dots = s.points
        .filter((p): p is readonly [number, number] => p[1] !== null)
        .map(([x, y]) => `<circle cx="${f(scale.x(x))}" cy="${f(scale.y(y))}" r="2.5" fill="${s.color}" data-step="${x}" data-value="${y}"><title>${escapeHtml(s.name)} · step ${x}: ${formatNumber(y)}</title></circle>`)
        .join('');
      return `${band}<path class="series" data-series="${escapeHtml(s.name)}" fill="none" stroke="${s.color}" stroke-width="1.8" d="${linePath(scale, s.points, s.connectGaps ?? false)}"/>${dots}`;
    })
    .join('');
  return `<svg class="chart" role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}">${renderAxes(scale, yLabel)}${body}</svg>`;
}

/** A stacked bar chart as inline SVG: one `rect` (with `data-step` and `data-part`) per step and part. */
export function renderStackedBars(title: string, yLabel: string, parts: readonly StackPart[], rows: readonly (readonly [number, readonly (number | null)[]])[]): string {
  const present = rows.filter(([, values]) => values.some((v) => v !== null));
  if (present.length === 0) return emptyChart(title);
  const totals = present.map(([, values]) => values.reduce<number>((sum, v) => sum + (v ?? 0), 0));
  const scale = toScale(present.map(([x]) => x), [0, ...totals], [0, Math.max(...totals) * 1.05 || 1]);
  const steps = present.map(([x]) => x);
  const span = steps.length > 1 ? (Math.max(...steps) - Math.min(...steps)) / (steps.length - 1) : 1;
  const barWidth = Math.max(1, Math.min(24, (PW / Math.max(steps.length, 1)) * 0.8, steps.length > 1 ? (scale.x(Math.min(...steps) + span) - scale.x(Math.min(...steps))) * 0.8 : 24));
  const bars = present
    .map(([x, values]) => {
      let base = 0;
      return values
        .map((v, i) => {
          if (v === null || v <= 0) return '';
          const top = scale.y(base + v);
          const height = scale.y(base) - top;
          base += v;
          const part = parts[i];
          return `<rect x="${f(scale.x(x) - barWidth / 2)}" y="${f(top)}" width="${f(barWidth)}" height="${f(height)}" fill="${part?.color ?? '#999'}" data-step="${x}" data-part="${escapeHtml(part?.name ?? '')}"><title>${escapeHtml(part?.name ?? '')} · step ${x}: ${formatNumber(v)}</title></rect>`;
        })
        .join('');
    })
    .join('');
  return `<svg class="chart" role="img" aria-label="${escapeHtml(title)}" viewBox="0 0 ${W} ${H}" width="${W}" height="${H}">${renderAxes(scale, yLabel)}${bars}</svg>`;
}

/** A figure with a caption and a legend around a chart. */
export function renderFigure(title: string, svg: string, legend: readonly StackPart[]): string {
  const items = legend.map((l) => `<span><i style="background:${l.color}"></i>${escapeHtml(l.name)}</span>`).join('');
  return `<figure data-chart="${escapeHtml(title)}"><figcaption>${escapeHtml(title)}</figcaption>${svg}<div class="legend muted">${items}</div></figure>`;
}
