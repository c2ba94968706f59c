/**
 * Staleness of a step's groups in the overlapped mode (`grpo.maxStaleness`
 * ≥ 1, docs/method.md §6.9): a group sampled with weight version `v` that
 * reaches the trainer at version `t` is `t − v` versions old. The ratio
 * `exp(log πθ − log π_sampling)` stays exact at any age, because the
 * trainer scores the sampler's own log-probs; the clip only bounds how far
 * one step may move, so a group older than `maxStaleness` is regenerated
 * instead of trained on.
 */

/**
 * A weight-version label (vLLM's `weight_version`, which differad's syncs set
 * to the trainer's version) as a version: "7" → 7; vLLM's starting
 * "default" and any other label that is not a plain number → null.
 */
export function toLabelledVersion(label: string | null): number | null {
  return label !== null && /^(0|[1-9]\d*)$/.test(label) ? Number(label) : null;
}

/**
 * The weight version a group counts as sampled with (its age at the
 * trainer): what the pool said its servers hold when the rollout
 * began, or older when the server says so (the oldest version of a request
 * an update fell inside, a replica behind). A server's report never makes a
 * group newer. differad's servers report the label the run's last sync gave
 * their weights (`update_weight_version` after a disk reload, nccl's
 * `finish_weight_update {weight_version}`: the trainer's version), and none
 * while unlabelled ("default", as after a restart); vLLM's chat route
 * reports none.
 */
export function toSampledVersion(pool: number, reported: number | null | undefined): number {
  return reported === null || reported === undefined ? pool : Math.min(pool, reported);
}

/** One final group of the step as the step job finds it. */
export interface StaleGroup {
  /**
   * The oldest weight version its completions were sampled with (a request
   * that spanned an in-flight update reports both; the oldest counts).
   * Null when neither the server nor the rollout recorded one: taken as fresh.
   */
  readonly version: number | null;
  /** Completions in the group (each counts once in the histogram). */
  readonly completions: number;
}

/** What the step job does with its groups before they go to the trainer. */
export interface StalenessDecision {
  /** Slots (indexes into the groups) to sample again at the current weights. */
  readonly regenerate: readonly number[];
  /**
   * Completions trained at each age: index a counts completions `a` versions
   * behind the trainer, for a = 0..maxStaleness. Regenerated groups are left
   * out (they are counted once their new sampling is trained).
   */
  readonly histogram: readonly number[];
}

/**
 * Decides which of a step's groups are too old to train on: those sampled
 * more than `maxStaleness` versions before `trainerVersion`. A group sampled
 * at a version ahead of the trainer (a server synced by another process
 * before this trainer position was read) counts as age 0.
 */
export function decideStaleness(groups: readonly StaleGroup[], trainerVersion: number, maxStaleness: number): StalenessDecision {
  const histogram = Array.from({ length: maxStaleness + 1 }, () => 0);
  const regenerate: number[] = [];
  groups.forEach((g, slot) => {
    const age = g.version === null ? 0 : Math.max(0, trainerVersion - g.version);
    if (age > maxStaleness) regenerate.push(slot);
    else histogram[age]! += g.completions;
  });
  return { regenerate, histogram };
}

/** A step row's staleness fields: `staleness_0` … `staleness_<max>` (completions trained at each age), then `regenerated` (groups sampled again). */
export function toStalenessFields(histogram: readonly number[], regenerated: number): Record<string, number> {
  return { ...Object.fromEntries(histogram.map((n, age) => [`staleness_${age}`, n])), regenerated };
}
