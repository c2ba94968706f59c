/**
 * The GRPO policy loss of docs/method.md §6 for the built-in CPU policy (a diagonal
 * Gaussian over the detector's parameters), with analytic gradients.
 *
 * One completion = one sampled parameter vector = one "action": its
 * log-probability log π(x) = Σₖ log N(xₖ; μₖ, σₖ·T) plays the role of a
 * language model's token log-probs. So a completion is a sequence of one
 * token, and the `sequence` and `token` normalizations coincide (a plain mean
 * over the scored completions).
 */
import type { GaussianPolicy, PolicySample } from './gaussian-policy.js';

/** log-ratios are clamped to ±this before exp, so one stale sample cannot overflow (e^20 ≈ 4.9e8). */
export const MAX_LOG_RATIO = 20;

/** Settings of the clipped objective. */
export interface GaussianLossConfig {
  /** ε_low: the ratio is clipped below at 1 − ε_low. */
  readonly clipLow: number;
  /** ε_high: the ratio is clipped above at 1 + ε_high. */
  readonly clipHigh: number;
  /** β: weight of the k3 KL estimate against the reference policy (0 disables it). */
  readonly beta: number;
  /** Sampling temperature: std is scaled by it, exactly as when sampling, so ratio = 1 on-policy. */
  readonly temperature: number;
}

/** One scored completion. */
export interface GaussianLossSample {
  readonly sample: PolicySample;
  /** log π_sampling(x): the sum of the completion's sampling log-probs. */
  readonly samplingLogProb: number;
  /** A_i of the completion's group (docs/method.md §5). */
  readonly advantage: number;
  /** w_g: the difficulty weight of the completion's group. */
  readonly weight: number;
}

/** Loss, its gradient and the statistics a trainer reports. */
export interface GaussianLossResult {
  /** Mean over samples of −w·min(r·A, clip(r)·A) + β·k3; 0 for no samples. */
  readonly loss: number;
  /** ∂loss/∂θ in the layout of toPolicyVector: per parameter `[∂/∂mean, ∂/∂logStd]`. */
  readonly gradient: number[];
  /** Samples whose clipped term is the active one (zero gradient from the surrogate). */
  readonly clipped: number;
  /** Mean k3 estimate of KL(π_θ ‖ π_ref) over the samples; 0 without a reference. */
  readonly kl: number;
  readonly count: number;
}

/**
 * log π(x) and its gradient. With s = exp(logStd)·T and z = (x − μ)/s:
 * log N = −½z² − log s − ½log 2π, ∂/∂μ = z/s, ∂/∂logStd = z² − 1.
 */
export function computeGaussianLogProbGradient(
  policy: GaussianPolicy,
  sample: PolicySample,
  temperature = 1,
): { logProb: number; gradient: number[] } {
  let logProb = 0;
  const gradient: number[] = [];
  for (const [name, p] of Object.entries(policy.params)) {
    const x = sample[name];
    if (x === undefined) throw new RangeError(`sample has no value for "${name}"`);
    const s = Math.exp(p.logStd) * temperature;
    const z = (x - p.mean) / s;
    logProb += -0.5 * z * z - Math.log(s) - 0.5 * Math.log(2 * Math.PI);
    gradient.push(z / s, z * z - 1);
  }
  return { logProb, gradient };
}

/** True when min(r·A, clip(r)·A) picks the clipped term while it differs from the unclipped one. */
function isClippedActive(ratio: number, advantage: number, config: GaussianLossConfig): boolean {
  return (advantage > 0 && ratio > 1 + config.clipHigh) || (advantage < 0 && ratio < 1 - config.clipLow);
}

/**
 * The loss of docs/method.md §6 over `samples` and its analytic gradient w.r.t. the
 * policy's means and log-stds. Per sample, r = exp(log π_θ − log π_sampling):
 * `Lᵢ = −wᵢ·min(r·Aᵢ, clip(r, 1−ε_low, 1+ε_high)·Aᵢ) + β·k3ᵢ`, with
 * k3 = e^d − d − 1, d = log π_ref − log π_θ (Schulman's estimator, as TRL).
 * ∂Lᵢ/∂log π_θ is −w·A·r on the unclipped branch and 0 on the clipped one,
 * plus β·(1 − e^d); the chain rule through {@link computeGaussianLogProbGradient}
 * gives the parameter gradient. The result is the mean over samples.
 * `reference` is only needed when β > 0 or the KL is to be reported.
 */
export function computeGrpoGaussianLoss(input: {
  readonly policy: GaussianPolicy;
  readonly reference: GaussianPolicy | null;
  readonly samples: readonly GaussianLossSample[];
  readonly config: GaussianLossConfig;
}): GaussianLossResult {
  const { policy, reference, samples, config } = input;
  const gradient = new Array<number>(Object.keys(policy.params).length * 2).fill(0);
  if (samples.length === 0) return { loss: 0, gradient, clipped: 0, kl: 0, count: 0 };
  const n = samples.length;
  let loss = 0;
  let clipped = 0;
  let klSum = 0;
  for (const s of samples) {
    const { logProb, gradient: g } = computeGaussianLogProbGradient(policy, s.sample, config.temperature);
    const logRatio = Math.min(MAX_LOG_RATIO, Math.max(-MAX_LOG_RATIO, logProb - s.samplingLogProb));
    const ratio = Math.exp(logRatio);
    const active = isClippedActive(ratio, s.advantage, config);
    const bounded = Math.min(1 + config.clipHigh, Math.max(1 - config.clipLow, ratio));
    loss += -s.weight * (active ? bounded : ratio) * s.advantage;
    // The clamp of the log-ratio is flat outside ±MAX_LOG_RATIO: no gradient through it there.
    const inRange = Math.abs(logProb - s.samplingLogProb) < MAX_LOG_RATIO;
    let dLoss = active || !inRange ? 0 : -s.weight * s.advantage * ratio;
    if (active) clipped += 1;
    if (reference) {
      // d is clamped like the log-ratio; the KL gradient keeps its sign (pull towards the reference) past the clamp.
      const dRaw = computeGaussianLogProbGradient(reference, s.sample, config.temperature).logProb - logProb;
      const d = Math.min(MAX_LOG_RATIO, Math.max(-MAX_LOG_RATIO, dRaw));
      const k3 = Math.exp(d) - d - 1;
      klSum += k3;
      if (config.beta > 0) {
        loss += config.beta * k3;
        dLoss += config.beta * (1 - Math.exp(d));
      }
    }
    for (let k = 0; k < gradient.length; k++) gradient[k] = gradient[k]! + (dLoss * g[k]!) / n;
  }
  return { loss: loss / n, gradient, clipped, kl: reference ? klSum / n : 0, count: n };
}
