import {
  computeAdvantages,
  computeDifficultyWeight,
  computeMean,
  computeStd,
  isDegenerateGroup,
  type AdvantageMode,
} from '../groups/group-stats.js';
import type { ManifestRecord } from '../records/records.js';
import { computeSampleScore, type ScoreSettings } from '../scoring/score-sample.js';

/** The GRPO settings group scoring needs (a subset of the config's `grpo` section). */
export interface GroupSettings {
  readonly advantage: AdvantageMode;
  readonly advantageEpsilon: number;
  readonly degenerateStd: number;
  readonly difficultyWeighting: boolean;
}

/** One sampling of a group (G completions of one pair), scored (docs/method.md §4–§5). */
export interface ScoredGroup {
  readonly formatRewards: readonly number[];
  readonly locRewards: readonly number[];
  readonly rewards: readonly number[];
  /** Evaluation IoU u per completion (docs/method.md §8). */
  readonly ious: readonly number[];
  readonly advantages: readonly number[];
  /** Difficulty weight of this sampling (1 when weighting is off). */
  readonly weight: number;
  readonly degenerate: boolean;
  /** Completions whose answer parsed (box or empty). */
  readonly valid: number;
}

/** Scores the completions of one group against the pair's ground truth and computes its statistics. */
export function scoreGroup(texts: readonly string[], record: ManifestRecord, settings: ScoreSettings, grpo: GroupSettings): ScoredGroup {
  const scores = texts.map((completion) => computeSampleScore(record, { id: record.id, completion }, settings));
  const formatRewards = scores.map((s) => s.format_reward ?? 0);
  const locRewards = scores.map((s) => s.loc_reward);
  const rewards = scores.map((s) => s.reward);
  return {
    formatRewards,
    locRewards,
    rewards,
    ious: scores.map((s) => s.u),
    advantages: computeAdvantages(rewards, { mode: grpo.advantage, epsilon: grpo.advantageEpsilon }),
    weight: grpo.difficultyWeighting ? computeDifficultyWeight(locRewards, { tau: settings.reward.tau }) : 1,
    degenerate: isDegenerateGroup(locRewards, { stdThreshold: grpo.degenerateStd }),
    valid: scores.filter((s) => s.valid).length,
  };
}

/** What enters the batch for a group after its samplings: advantages and the difficulty weight. */
export interface FinalGroup {
  readonly advantages: readonly number[];
  readonly weight: number;
}

/**
 * The group as trained on: the last sampling's advantages of the total reward
 * R = R_fmt + R_loc — also when it is still degenerate and kept, so a varying
 * format reward still teaches (docs/method.md §5) — and the difficulty weight of the
 * first sampling as in the research code, or of the last when `weightFrom`
 * is `final`.
 */
export function finalizeGroup(samplings: readonly ScoredGroup[], weightFrom: 'first' | 'final'): FinalGroup {
  const first = samplings[0];
  const last = samplings[samplings.length - 1];
  if (!first || !last) throw new RangeError('finalizeGroup needs at least one sampling');
  return {
    advantages: last.advantages,
    weight: weightFrom === 'first' ? first.weight : last.weight,
  };
}

/** The reward statistics of a step over its final groups. */
export interface StepRewardStats {
  readonly reward_mean: number;
  readonly reward_std: number;
  readonly format_rate: number;
  readonly loc_reward_mean: number;
  readonly iou_mean: number;
  readonly frac_degenerate: number;
  readonly weight_mean: number;
}

export function computeStepRewardStats(groups: readonly { final: ScoredGroup; weight: number }[]): StepRewardStats {
  const all = (pick: (g: ScoredGroup) => readonly number[]) => groups.flatMap((g) => [...pick(g.final)]);
  const rewards = all((g) => g.rewards);
  return {
    reward_mean: computeMean(rewards),
    reward_std: computeStd(rewards, 'population'),
    format_rate: computeMean(all((g) => g.formatRewards)),
    loc_reward_mean: computeMean(all((g) => g.locRewards)),
    iou_mean: computeMean(all((g) => g.ious)),
    frac_degenerate: groups.length === 0 ? 0 : groups.filter((g) => g.final.degenerate).length / groups.length,
    weight_mean: computeMean(groups.map((g) => g.weight)),
  };
}
