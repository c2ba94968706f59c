import type { GaussianPolicy } from './gaussian-policy.js';

/** The range GaussianParamSchema allows for logStd; updates are clamped into it so a written policy always validates. */
export const LOG_STD_RANGE = Object.freeze({ min: -12, max: 4 });

/** One parameter's (mean, logStd) pair: a gradient, an Adam moment, or an update. */
export interface ParamPair {
  readonly mean: number;
  readonly logStd: number;
}

/**
 * The trainable values of a policy as one flat vector: for each parameter, in
 * the policy's key order, `[mean, logStd]`. Gradients and optimizer state use
 * the same layout, so they can be summed and stepped element-wise.
 */
export function toPolicyVector(policy: GaussianPolicy): number[] {
  const out: number[] = [];
  for (const p of Object.values(policy.params)) out.push(p.mean, p.logStd);
  return out;
}

/**
 * Step scale of a log-std: lr 0.01 changes a std by about 5% per step, so a
 * 30-step run can narrow the exploration to a quarter of its start (or widen
 * it) when the rewards ask for it; at scale 1 it could move it by a quarter
 * of that, and the sampled answers stayed about as noisy as at step 0.
 */
export const LOG_STD_STEP_SCALE = 5;

/**
 * The optimizer's step scale per value of {@link toPolicyVector}: a mean moves
 * in units of its parameter's range (max − min), a log-std in units of
 * {@link LOG_STD_STEP_SCALE}. Adam's step is about lr per value whatever the
 * gradient's scale, so without this lr 0.01 would move a threshold on
 * [0.01, 0.95] and a pad on [−5, 20] by the same 0.01; with it each moves by
 * about 1% of its range.
 */
export function computePolicyStepScale(policy: GaussianPolicy): number[] {
  const out: number[] = [];
  for (const p of Object.values(policy.params)) out.push(p.max - p.min, LOG_STD_STEP_SCALE);
  return out;
}

/**
 * The policy with its means and log-stds replaced by `vector` (layout of
 * {@link toPolicyVector}); ranges and version are kept, logStd is clamped to
 * {@link LOG_STD_RANGE}. Throws a RangeError when the length does not fit.
 */
export function fromPolicyVector(policy: GaussianPolicy, vector: readonly number[]): GaussianPolicy {
  const names = Object.keys(policy.params);
  if (vector.length !== names.length * 2) throw new RangeError(`vector has ${vector.length} values, the policy needs ${names.length * 2}`);
  const params: GaussianPolicy['params'] = {};
  names.forEach((name, k) => {
    const p = policy.params[name]!;
    const logStd = Math.min(LOG_STD_RANGE.max, Math.max(LOG_STD_RANGE.min, vector[2 * k + 1]!));
    params[name] = { mean: vector[2 * k]!, logStd, min: p.min, max: p.max };
  });
  return { version: policy.version, params };
}

/** A vector in the policy layout as `{ name: { mean, logStd } }` (for reports and checkpoint files). */
export function toParamRecord(policy: GaussianPolicy, vector: readonly number[]): Record<string, ParamPair> {
  const names = Object.keys(policy.params);
  if (vector.length !== names.length * 2) throw new RangeError(`vector has ${vector.length} values, the policy needs ${names.length * 2}`);
  return Object.fromEntries(names.map((name, k) => [name, { mean: vector[2 * k]!, logStd: vector[2 * k + 1]! }]));
}

/** The inverse of {@link toParamRecord}; a RangeError names a parameter the record lacks. */
export function fromParamRecord(policy: GaussianPolicy, record: Readonly<Record<string, ParamPair>>): number[] {
  const out: number[] = [];
  for (const name of Object.keys(policy.params)) {
    const pair = record[name];
    if (!pair) throw new RangeError(`record has no entry for "${name}"`);
    out.push(pair.mean, pair.logStd);
  }
  return out;
}
