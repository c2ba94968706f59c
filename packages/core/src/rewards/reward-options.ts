/** Localization reward variants (docs/method.md §4). */
export const LOC_REWARD_VARIANTS = ['dclr', 'dclr-released', 'iou'] as const;
export type LocRewardVariant = (typeof LOC_REWARD_VARIANTS)[number];

/** Settings of the rewards; `DEFAULT_REWARD_OPTIONS` holds docs/method.md §4's defaults. */
export interface RewardOptions {
  readonly variant: LocRewardVariant;
  /** Weight of the centre term in S_cons. */
  readonly alpha: number;
  /** Share of S_cons added below τ (paper variant). */
  readonly lambda: number;
  /** IoU threshold between the two branches (paper variant). */
  readonly tau: number;
  /** Gain of the bounded adjustment δ above τ (paper variant). */
  readonly kappa: number;
  readonly epsilon: number;
  readonly formatWeight: number;
  readonly locWeight: number;
}

export const DEFAULT_REWARD_OPTIONS: RewardOptions = Object.freeze({
  variant: 'dclr',
  alpha: 0.6,
  lambda: 0.3,
  tau: 0.3,
  kappa: 0.05,
  epsilon: 1e-6,
  formatWeight: 1,
  locWeight: 1,
});
