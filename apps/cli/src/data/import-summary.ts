import type { ImportResult } from '@differad/datasets';

/** Most bad items listed one per line; the rest are counted. */
const MAX_LISTED = 50;

/** The human summary of an import: counts, importer details, and every skipped item with its reason. */
export function formatImportSummary(kind: string, result: ImportResult, seconds: number): string {
  const lines = [
    `imported ${result.records} ${kind} record(s): ${result.anomalous} anomalous, ${result.normal} normal → ${result.manifest} (${seconds.toFixed(1)} s)`,
  ];
  const details = Object.entries(result.details);
  if (details.length > 0) lines.push(details.map(([k, v]) => `${k.replaceAll('_', ' ')} ${v}`).join(' · '));
  if (result.skipped.length > 0) {
    lines.push(`skipped ${result.skipped.length} bad item(s):`);
    for (const item of result.skipped.slice(0, MAX_LISTED)) lines.push(`  [${item.code}] ${item.message}`);
    if (result.skipped.length > MAX_LISTED) lines.push(`  … and ${result.skipped.length - MAX_LISTED} more (see --json)`);
  }
  return `${lines.join('\n')}\n`;
}
