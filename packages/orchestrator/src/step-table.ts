/** The per-step console table of `differad train`. */
const COLUMNS: readonly { key: string; label: string; width: number; format: (v: number) => string }[] = [
  { key: 'step', label: 'step', width: 5, format: (v) => String(v) },
  { key: 'reward_mean', label: 'reward', width: 7, format: (v) => v.toFixed(3) },
  { key: 'reward_std', label: '±std', width: 6, format: (v) => v.toFixed(3) },
  { key: 'format_rate', label: 'fmt', width: 5, format: (v) => v.toFixed(2) },
  { key: 'loc_reward_mean', label: 'R_loc', width: 6, format: (v) => v.toFixed(3) },
  { key: 'iou_mean', label: 'IoU', width: 6, format: (v) => v.toFixed(3) },
  { key: 'frac_degenerate', label: 'degen', width: 6, format: (v) => v.toFixed(2) },
  { key: 'resamples', label: 'resmp', width: 5, format: (v) => String(v) },
  { key: 'replacements', label: 'repl', width: 4, format: (v) => String(v) },
  { key: 'weight_mean', label: 'w', width: 5, format: (v) => v.toFixed(2) },
  { key: 'loss', label: 'loss', width: 8, format: (v) => v.toFixed(4) },
  { key: 'clip_fraction', label: 'clip', width: 5, format: (v) => v.toFixed(2) },
  { key: 'grad_norm', label: '|g|', width: 7, format: (v) => v.toFixed(3) },
  { key: 'eval_acc', label: 'Acc@.3', width: 6, format: (v) => (v * 100).toFixed(1) },
  { key: 'total_ms', label: 'time', width: 7, format: (v) => `${(v / 1000).toFixed(2)}s` },
];

export function formatStepHeader(): string {
  return COLUMNS.map((c) => c.label.padStart(c.width)).join(' ');
}

export function formatStepRow(row: Record<string, number | null>): string {
  return COLUMNS.map((c) => {
    const v = row[c.key];
    return (v === null || v === undefined ? '·' : c.format(v)).padStart(c.width);
  }).join(' ');
}
