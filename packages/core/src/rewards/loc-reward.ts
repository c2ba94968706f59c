import { type Box, computeBoxArea, computeBoxCenter, computeBoxDiagonal, computeIou } from '../boxes/box.js';
import type { ParsedAnswer } from '../parse/parse-answer.js';
import { DEFAULT_REWARD_OPTIONS, type RewardOptions } from './reward-options.js';

export interface Consistency {
  readonly iou: number;
  readonly sCenter: number;
  readonly sScale: number;
  /** S_cons = α·s_center + (1−α)·s_scale, clamped to [0, 1]. */
  readonly sCons: number;
}

/** The terms of the Dual-Consistency Localization Reward for boxes P and G. */
export function computeConsistency(
  pred: Box,
  gt: Box,
  options: Pick<RewardOptions, 'alpha' | 'epsilon'> = DEFAULT_REWARD_OPTIONS,
): Consistency {
  const { alpha, epsilon } = options;
  const [px, py] = computeBoxCenter(pred);
  const [gx, gy] = computeBoxCenter(gt);
  const scaleRef = Math.max(computeBoxDiagonal(pred), computeBoxDiagonal(gt), 1) + epsilon;
  const sCenter = 1 - Math.min(1, Math.hypot(px - gx, py - gy) / scaleRef);
  const areaGt = computeBoxArea(gt);
  const sScale = 1 - Math.min(1, Math.abs(computeBoxArea(pred) - areaGt) / (areaGt + epsilon));
  const sCons = Math.min(1, Math.max(0, alpha * sCenter + (1 - alpha) * sScale));
  return { iou: computeIou(pred, gt), sCenter, sScale, sCons };
}

/** R_loc for two non-empty boxes in the same frame, per the chosen variant. */
export function computeBoxLocReward(pred: Box, gt: Box, options: RewardOptions = DEFAULT_REWARD_OPTIONS): number {
  if (options.variant === 'iou') return computeIou(pred, gt);
  const { iou, sCons } = computeConsistency(pred, gt, options);
  if (options.variant === 'dclr-released') return iou + (1 - iou) * sCons;
  if (iou < options.tau) return iou + (1 - iou) * options.lambda * sCons;
  return iou + Math.min(1 - iou, options.kappa * Math.max(0, sCons - iou));
}

/**
 * R_loc of a parsed answer against ground truth in the same model frame
 * (`null` = normal sample). Normal GT: 1 for the empty answer, else 0.
 * Anomalous GT: 0 for an empty, invalid or missing answer.
 */
export function computeLocReward(answer: ParsedAnswer | null, gt: Box | null, options: RewardOptions = DEFAULT_REWARD_OPTIONS): number {
  if (gt === null) return answer?.kind === 'empty' ? 1 : 0;
  if (answer?.kind !== 'box') return 0;
  return computeBoxLocReward(answer.box, gt, options);
}

/** Total reward R = w_fmt·R_fmt + w_loc·R_loc. */
export function computeTotalReward(
  formatReward: number,
  locReward: number,
  options: Pick<RewardOptions, 'formatWeight' | 'locWeight'> = DEFAULT_REWARD_OPTIONS,
): number {
  return options.formatWeight * formatReward + options.locWeight * locReward;
}
