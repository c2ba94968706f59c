import type { DatasetStats, GroupedSplit, SplitPart } from '@differad/core';

/** One written part: its file, record statistics and group count. */
export interface SplitPartSummary {
  readonly part: SplitPart;
  readonly file: string;
  readonly groups: number;
  /** The record count asked for; undefined for train (the rest). */
  readonly target?: number;
  readonly stats: DatasetStats;
}

/** What `differad data split` reports. */
export interface SplitSummary {
  readonly manifest: string;
  readonly records: number;
  readonly groups: number;
  readonly groupBy: string;
  readonly seed: number;
  readonly parts: readonly SplitPartSummary[];
}

/** The per-part rows, then one class-balance table per part (count, anomalous, normal). */
export function formatSplitSummary(s: SplitSummary): string {
  const lines = [`${s.manifest}: ${s.records} records in ${s.groups} groups (by ${s.groupBy}), seed ${s.seed}`];
  for (const p of s.parts) {
    const asked = p.target === undefined ? '' : ` (asked ${p.target})`;
    lines.push(`${p.part.padEnd(8)} ${String(p.stats.n).padStart(7)} records${asked} · ${p.stats.anomalous} anomalous · ${p.stats.normal} normal · ${p.groups} groups → ${p.file}`);
  }
  for (const p of s.parts) {
    const names = Object.keys(p.stats.classes).sort();
    const width = Math.max(5, ...names.map((n) => n.length));
    lines.push('', `${p.part} ${'class'.padEnd(width)}  ${'n'.padStart(7)} ${'anomalous'.padStart(9)} ${'normal'.padStart(7)}`);
    for (const name of names) {
      const c = p.stats.classes[name]!;
      lines.push(`${' '.repeat(p.part.length)} ${name.padEnd(width)}  ${String(c.n).padStart(7)} ${String(c.anomalous).padStart(9)} ${String(c.normal).padStart(7)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

/** The target of a part, as the summary shows it. */
export const partTarget = (split: GroupedSplit, part: SplitPart): number | undefined => (part === 'train' ? undefined : split.targets[part]);
