import { METRIC_CATALOG, type MetricSpec } from '../catalog/metric-catalog.js';

const cell = (text: string) => text.replaceAll('|', '\\|');

/**
 * The README's metric list (section "Monitoring"), one row per catalog
 * metric: name, type, labels, meaning. A test compares the README with it,
 * so the list cannot drift from what the registry exports.
 */
export function toMetricsTable(catalog: Readonly<Record<string, MetricSpec>> = METRIC_CATALOG): string {
  const rows = Object.values(catalog).map(
    (m) => `| \`${m.name}\` | ${m.type} | ${m.labels.length > 0 ? m.labels.map((l) => `\`${l}\``).join(', ') : ''} | ${cell(m.help)} |`,
  );
  return ['| metric | type | labels | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
