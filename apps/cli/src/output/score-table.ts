import type { MetricReport, MetricSet } from '@differad/core';

function pct(v: number | null): string {
  return v === null ? '—' : (v * 100).toFixed(2);
}

function row(label: string, m: MetricSet): string[] {
  return [label, String(m.n), pct(m.acc), pct(m.f1), pct(m.mIoU), pct(m.mIoU_ano), pct(m.mIoU_nor)];
}

/** Left-aligns the first column and right-aligns the rest. */
export function formatColumns(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const r of rows) r.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ')).join('\n');
}

/**
 * The readable metric table of `differad score` (percentages, like the paper's
 * tables): overall, class mean, class mean over defect classes (normal-only
 * classes left out, docs/method.md §8.4), per class, per subset.
 */
export function formatMetricTable(report: MetricReport): string {
  const t = report.tau;
  const header = ['', 'n', `Acc@${t}`, `F1@${t}`, 'mIoU', 'mIoU_ano', 'mIoU_nor'];
  const rows: string[][] = [
    header,
    row('overall (samples)', report.overall),
    row('class mean', report.class_mean),
    row('defect class mean', report.defect_class_mean),
  ];
  for (const [name, m] of Object.entries(report.classes)) rows.push(row(`class ${name}`, m));
  for (const [name, m] of Object.entries(report.subsets)) rows.push(row(`subset ${name}`, m));
  return formatColumns(rows);
}
