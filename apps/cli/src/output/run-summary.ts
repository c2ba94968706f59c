import { join } from 'node:path';
import type { HeldOutMetrics, RewardWindow, RunSummary } from '@differad/core';
import { formatColumns } from './score-table.js';

const pct = (v: number | null | undefined) => (v === null || v === undefined ? '—' : (v * 100).toFixed(2));

function heldOutRow(label: string, m: HeldOutMetrics | null): string[] {
  if (m === null) return [label, '—', '—', '—', '—', '—', '—'];
  return [label, String(m.n), pct(m.acc), pct(m.f1), pct(m.miou), pct(m.miou_ano), pct(m.miou_nor)];
}

const rewardText = (w: RewardWindow) => (w.mean === null ? '—' : w.mean.toFixed(3));

/**
 * The lines `differad train` prints when a run ends: held-out metrics before
 * and after training and at the best step (percent, the run's τ), the mean
 * reward of the first and last steps, the final policy, and how to evaluate it.
 */
export function formatRunSummary(summary: RunSummary, runDir: string): string {
  const t = summary.tau;
  const { before, after, best } = summary.held_out;
  const lines: string[] = [];
  if (before === null && after === null) {
    lines.push('held-out: none (the config has no data.eval)');
  } else {
    lines.push(
      formatColumns([
        [`held-out`, 'n', `Acc@${t}`, `F1@${t}`, 'mIoU', 'mIoU_ano', 'mIoU_nor'],
        heldOutRow('before training', before),
        heldOutRow(after === null ? 'after training' : `after step ${after.step}`, after),
        heldOutRow(best === null ? 'best step' : `best: step ${best.step}`, best),
      ]),
    );
    const defects = after?.defect_class_mean;
    if (defects !== undefined)
      lines.push(
        `after, class mean over ${defects.n} defect class(es): Acc@${t} ${pct(defects.acc)} · F1@${t} ${pct(defects.f1)} · mIoU ${pct(defects.mIoU)}`,
      );
  }
  const { first, last } = summary.reward;
  const change =
    first.mean !== null && last.mean !== null ? ` (${last.mean - first.mean >= 0 ? '+' : ''}${(last.mean - first.mean).toFixed(3)})` : '';
  lines.push(
    `training reward: mean ${rewardText(first)} over the first ${first.steps} step(s), ${rewardText(last)} over the last ${last.steps}${change}`,
  );
  const policy = summary.final_policy;
  lines.push(
    policy === null
      ? 'final policy: none differad can serve (the trainer keeps the weights)'
      : `final policy: ${policy.path} (weight version ${policy.weight_version})`,
  );
  if (policy !== null)
    lines.push(`evaluate it: differad eval --run ${runDir} --out ${join(runDir, 'eval')} (the held-out manifest unless --manifest FILE)`);
  lines.push(`summary: ${join(runDir, 'summary.json')}`);
  return lines.join('\n');
}
