import { z } from 'zod';
import type { Rng } from '../random/rng.js';

/**
 * The built-in CPU policy's parameters: a diagonal Gaussian per parameter.
 * A completion samples one value of each; the trainer updates mean and
 * log-std with the GRPO objective, so the values' log-probability under the
 * policy plays the role of a language model's token log-probs.
 */
export const GaussianParamSchema = z.strictObject({
  mean: z.number().finite(),
  logStd: z.number().min(-12).max(4),
  /** The detector clamps sampled values to [min, max]; the log-prob uses the raw sample. */
  min: z.number().finite(),
  max: z.number().finite(),
});
export type GaussianParam = z.infer<typeof GaussianParamSchema>;

export const GaussianPolicySchema = z.strictObject({
  /** Bumped by every weight update, reported on every completion. */
  version: z.number().int().nonnegative(),
  params: z.record(z.string().regex(/^[a-z][a-z_]*$/), GaussianParamSchema),
});
export type GaussianPolicy = z.infer<typeof GaussianPolicySchema>;

/** The reference-difference detector's starting policy. */
export const DEFAULT_CPU_POLICY: GaussianPolicy = Object.freeze({
  version: 0,
  params: Object.freeze({
    /** Difference (0..1 of full scale) above which a pixel is anomalous. */
    threshold: Object.freeze({ mean: 0.16, logStd: Math.log(0.05), min: 0.01, max: 0.95 }),
    /** Box-blur radius of the difference map, in working pixels. */
    blur: Object.freeze({ mean: 1.5, logStd: Math.log(0.8), min: 0, max: 8 }),
    /** Smallest anomaly as log10 of its share of the image. */
    min_area: Object.freeze({ mean: -3.3, logStd: Math.log(0.4), min: -6, max: -0.5 }),
    /** Local misalignment forgiven, in working pixels (the detector rounds it to 0..3). */
    tolerance: Object.freeze({ mean: 1, logStd: Math.log(0.6), min: 0, max: 3 }),
    /** Margin added on every side of the box, in percent of the image's long side (starts tight). */
    pad: Object.freeze({ mean: 0, logStd: Math.log(1.5), min: -5, max: 20 }),
  }),
});

export type PolicySample = Readonly<Record<string, number>>;

/** Std of a parameter at a sampling temperature (temperature scales the spread). */
function stdOf(param: GaussianParam, temperature: number): number {
  return Math.exp(param.logStd) * temperature;
}

/** Draws one value per parameter; temperature 0 returns the means. */
export function samplePolicy(rng: Rng, policy: GaussianPolicy, temperature: number): PolicySample {
  const out: Record<string, number> = {};
  for (const [name, p] of Object.entries(policy.params))
    out[name] = temperature > 0 ? p.mean + stdOf(p, temperature) * rng.normal() : p.mean;
  return out;
}

/** log π(sample) = Σ log N(value; mean, std·T); parameters missing from the sample are an error. */
export function computePolicyLogProb(policy: GaussianPolicy, sample: PolicySample, temperature = 1): number {
  let total = 0;
  for (const [name, p] of Object.entries(policy.params)) {
    const v = sample[name];
    if (v === undefined) throw new RangeError(`sample has no value for "${name}"`);
    const std = stdOf(p, temperature);
    const z = (v - p.mean) / std;
    total += -0.5 * z * z - Math.log(std) - 0.5 * Math.log(2 * Math.PI);
  }
  return total;
}

/** A sampled value clamped to its parameter's range, as the detector uses it. */
export function clampPolicyValue(policy: GaussianPolicy, name: string, value: number): number {
  const p = policy.params[name];
  if (!p) throw new RangeError(`unknown policy parameter "${name}"`);
  return Math.min(p.max, Math.max(p.min, value));
}

/** `threshold=0.153201 blur=1.204410 min_area=-3.125000`: the sample as written in `<think>`. */
export function formatPolicySample(sample: PolicySample): string {
  return Object.entries(sample)
    .map(([k, v]) => `${k}=${v.toFixed(6)}`)
    .join(' ');
}

const SAMPLE_PAIR = /([a-z][a-z_]*)=(-?\d+(?:\.\d+)?(?:e[+-]?\d+)?)/g;

/** Reads `name=value` pairs back from completion text; null when a policy parameter is missing. */
export function parsePolicySample(text: string, policy: GaussianPolicy): PolicySample | null {
  const found: Record<string, number> = {};
  for (const m of text.slice(0, 4096).matchAll(SAMPLE_PAIR)) {
    const [, name, value] = m;
    if (name !== undefined && value !== undefined && name in policy.params && !(name in found)) found[name] = Number(value);
  }
  return Object.keys(policy.params).every((k) => k in found) ? found : null;
}
