import type { MetricSet } from '@differad/core';
import { html, raw } from 'hono/html';
import type { HtmlEscapedString } from 'hono/utils/html';
import type { ScoreSummary } from './score-summary.js';

/** One pictured sample of the report. */
export interface ReportSample {
  readonly id: string;
  readonly class: string;
  /** Evaluation IoU u (docs/method.md §8). */
  readonly u: number;
  readonly kind: string;
  /** A `data:image/jpeg;base64,` preview (reference | target, truth green, answer red), or null when it could not be drawn. */
  readonly image: string | null;
  readonly note: string;
}

/** One invalid or missing answer. */
export interface ReportInvalid {
  readonly id: string;
  readonly class: string;
  readonly reason: string;
  readonly completion: string | null;
}

/** Everything the page shows. */
export interface ReportData {
  readonly title: string;
  /** Lines of context: model, endpoints, frame, counts. */
  readonly facts: readonly (readonly [label: string, value: string])[];
  readonly summary: ScoreSummary;
  readonly worst: readonly ReportSample[];
  readonly best: readonly ReportSample[];
  /** The first invalid answers (all of them when few). */
  readonly invalid: readonly ReportInvalid[];
  /** How many answers are invalid in all; `invalid.length` when absent. */
  readonly invalidCount?: number;
}

/** hono/html's `html` tag without promises among the values: every value that is not markup of this tag is escaped. */
function markup(strings: TemplateStringsArray, ...values: unknown[]): HtmlEscapedString {
  const out = html(strings, ...values);
  if (out instanceof Promise) throw new TypeError('a report template was given a promise');
  return out;
}

const pct = (v: number | null) => (v === null ? '—' : (v * 100).toFixed(2));

function metricRow(label: string, m: MetricSet): HtmlEscapedString {
  const cells = [
    String(m.n),
    String(m.n_ano),
    String(m.n_nor),
    pct(m.acc),
    pct(m.f1),
    pct(m.mIoU),
    pct(m.mIoU_ano),
    pct(m.mIoU_nor),
    `${m.tp}/${m.fp}/${m.fn}`,
  ];
  return markup`<tr><th>${label}</th>${cells.map((c) => markup`<td>${c}</td>`)}</tr>`;
}

function metricTable(caption: string, rows: readonly (readonly [string, MetricSet])[], tau: number, nLabel = 'n'): HtmlEscapedString {
  const head = [nLabel, 'anomalous', 'normal', `Acc@${tau}`, `F1@${tau}`, 'mIoU', 'mIoU_ano', 'mIoU_nor', 'TP/FP/FN'];
  return markup`<table><caption>${caption}</caption><thead><tr><th></th>${head.map((h) => markup`<th>${h}</th>`)}</tr></thead><tbody>${rows.map(([label, m]) => metricRow(label, m))}</tbody></table>`;
}

function sampleFigure(s: ReportSample): HtmlEscapedString {
  const picture = s.image === null ? markup`<div class="missing">no preview</div>` : markup`<img src="${s.image}" alt="${s.id}">`;
  return markup`<figure>${picture}<figcaption><b>${s.id}</b> · ${s.class} · u ${s.u.toFixed(3)} · ${s.kind}<br><span>${s.note}</span></figcaption></figure>`;
}

function invalidTable(rows: readonly ReportInvalid[]): HtmlEscapedString {
  if (rows.length === 0) return markup`<p>None: every answer could be parsed.</p>`;
  const body = rows.map((r) => {
    // The completion is model output: escaped like every other value.
    const text =
      r.completion === null
        ? markup`<i>no answer</i>`
        : markup`<code>${r.completion.length > 400 ? `${r.completion.slice(0, 400)}…` : r.completion}</code>`;
    return markup`<tr><td>${r.id}</td><td>${r.class}</td><td>${r.reason}</td><td>${text}</td></tr>`;
  });
  return markup`<table class="invalid"><thead><tr><th>id</th><th>class</th><th>why</th><th>completion</th></tr></thead><tbody>${body}</tbody></table>`;
}

const STYLE = `
body{font:14px/1.45 system-ui,sans-serif;margin:24px;color:#1d1d1f;background:#fafafa}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:10px 0;background:#fff}caption{text-align:left;font-weight:600;padding:4px 0}
th,td{border:1px solid #ddd;padding:4px 8px;text-align:right}th:first-child,td:first-child{text-align:left}
thead th{background:#f0f0f0}table.invalid td{text-align:left;vertical-align:top}code{white-space:pre-wrap;word-break:break-all;font-size:12px}
dl{display:grid;grid-template-columns:max-content auto;gap:2px 14px}dt{font-weight:600}dd{margin:0}
.grid{display:flex;flex-wrap:wrap;gap:14px}figure{margin:0;background:#fff;border:1px solid #ddd;padding:6px;max-width:520px}
figure img{display:block;max-width:100%}figcaption{font-size:12px;margin-top:4px}figcaption span{color:#555}
.missing{width:240px;height:120px;display:flex;align-items:center;justify-content:center;background:#eee;color:#777}
.legend b.gt{color:#00a000}.legend b.pred{color:#e00000}`;

/**
 * The self-contained evaluation report: context, the overall / class-mean /
 * defect-class-mean / per-class / per-subset tables (percentages, as the paper's tables), the
 * worst and best samples pictured, and the invalid answers.
 */
export function toReportHtml(data: ReportData): string {
  const s = data.summary;
  const headline: [string, MetricSet][] = [
    ['overall (over samples)', s.overall],
    ['class mean (unweighted over classes)', s.class_mean],
    ['defect class mean (classes with anomalous samples; normal-only classes count in overall only)', s.defect_class_mean],
  ];
  const subsets = Object.entries(s.subsets);
  const invalidCount = data.invalidCount ?? data.invalid.length;
  // STYLE is this file's constant: raw, since a <style> element decodes no entities.
  return markup`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${data.title}</title><style>${raw(STYLE)}</style></head><body>
<h1>${data.title}</h1>
<dl>${data.facts.map(([k, v]) => markup`<dt>${k}</dt><dd>${v}</dd>`)}</dl>
<h2>Overall and class mean</h2>
${metricTable('Overall and class mean (%; class mean counts classes in n)', headline, s.tau)}
<h2>Per class</h2>
${metricTable('Per class (%)', Object.entries(s.classes), s.tau)}
${subsets.length > 0 ? markup`<h2>Per subset</h2>${metricTable('Per subset (%)', subsets, s.tau)}` : ''}
<p class="legend">Pictures: reference | target, <b class="gt">ground truth in green</b>, <b class="pred">answer in red</b>; u is the evaluation IoU of docs/method.md §8.</p>
<h2>Worst samples</h2><div class="grid">${data.worst.map(sampleFigure)}</div>
<h2>Best samples</h2><div class="grid">${data.best.map(sampleFigure)}</div>
<h2>Invalid answers (${invalidCount})</h2>
${invalidTable(data.invalid)}${invalidCount > data.invalid.length ? markup`\n<p>The first ${data.invalid.length} are listed; every one is in scores.jsonl.</p>` : ''}
</body></html>
`.toString();
}
