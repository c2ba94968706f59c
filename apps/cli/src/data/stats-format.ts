import type { DatasetStats, Distribution, GroupCounts } from '@differad/core';

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;

function groupRows(title: string, groups: Readonly<Record<string, GroupCounts>>): string[] {
  const names = Object.keys(groups);
  if (names.length === 0) return [];
  const width = Math.max(title.length, ...names.map((n) => n.length));
  const rows = [`${title.padEnd(width)}  ${'n'.padStart(7)} ${'anomalous'.padStart(9)} ${'normal'.padStart(7)} ${'normal %'.padStart(9)}`];
  for (const name of names) {
    const g = groups[name] as GroupCounts;
    rows.push(`${name.padEnd(width)}  ${String(g.n).padStart(7)} ${String(g.anomalous).padStart(9)} ${String(g.normal).padStart(7)} ${pct(g.normal_share).padStart(9)}`);
  }
  return [...rows, ''];
}

function distributionRow(name: string, d: Distribution | null, format: (v: number) => string): string {
  if (d === null) return `${name.padEnd(12)} —`;
  const cells = [d.min, d.p25, d.median, d.p75, d.max, d.mean].map((v) => format(v).padStart(9));
  return `${name.padEnd(12)} ${cells.join(' ')}`;
}

/** `differad data stats` as a table: totals, per class, per subset, image sizes and box sizes. */
export function formatDatasetStats(path: string, s: DatasetStats): string {
  const px = (v: number) => v.toFixed(1);
  const sizes = Object.entries(s.image_sizes).map(([size, n]) => `${size} ×${n}`);
  const b = s.boxes;
  return [
    `${path}: ${s.n} records · ${s.anomalous} anomalous · ${s.normal} normal (${pct(s.normal_share)})`,
    `image sizes: ${sizes.slice(0, 8).join(', ')}${sizes.length > 8 ? `, … (${sizes.length} sizes)` : ''}`,
    '',
    ...groupRows('class', s.classes),
    ...groupRows('subset', s.subsets),
    `boxes (${b.n})   ${['min', 'p25', 'median', 'p75', 'max', 'mean'].map((h) => h.padStart(9)).join(' ')}`,
    distributionRow('width px', b.width, px),
    distributionRow('height px', b.height, px),
    distributionRow('area share', b.area_share, (v) => pct(v)),
    `size buckets: small (< 1 % of the image) ${b.size_buckets.small} · medium (< 10 %) ${b.size_buckets.medium} · large ${b.size_buckets.large}`,
  ].join('\n') + '\n';
}
