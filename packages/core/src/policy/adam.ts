/** Adam (Kingma & Ba, 2015, Algorithm 1) over a flat parameter vector, plus gradient-norm clipping. */

/** Adam hyperparameters; betas and ε default to the paper's (and PyTorch's) values. */
export interface AdamSettings {
  readonly lr: number;
  /**
   * Per-value multiplier of lr (layout of the parameters): the step of value i
   * is lr·scale[i]·m̂/(√v̂ + ε). Absent: 1 for every value.
   */
  readonly scale?: readonly number[];
  readonly beta1?: number;
  readonly beta2?: number;
  readonly epsilon?: number;
}

/** Optimizer state: steps taken and the first and second moment estimates. */
export interface AdamState {
  readonly t: number;
  readonly m: readonly number[];
  readonly v: readonly number[];
}

/** The state before the first step: zero moments for `size` values. */
export function createAdamState(size: number): AdamState {
  return { t: 0, m: new Array<number>(size).fill(0), v: new Array<number>(size).fill(0) };
}

/**
 * One Adam step: m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g², θ ← θ − lr·sᵢ·m̂/(√v̂ + ε)
 * with the bias-corrected m̂ = m/(1−β₁ᵗ), v̂ = v/(1−β₂ᵗ). Pure: returns new
 * parameters and state.
 */
export function computeAdamStep(
  params: readonly number[],
  gradient: readonly number[],
  state: AdamState,
  settings: AdamSettings,
): { params: number[]; state: AdamState } {
  const { lr, scale, beta1 = 0.9, beta2 = 0.999, epsilon = 1e-8 } = settings;
  if (scale !== undefined && scale.length !== params.length)
    throw new RangeError(`Adam: ${params.length} parameters, ${scale.length} scales`);
  if (gradient.length !== params.length || state.m.length !== params.length || state.v.length !== params.length) {
    throw new RangeError(`Adam: ${params.length} parameters, ${gradient.length} gradients, ${state.m.length}/${state.v.length} moments`);
  }
  const t = state.t + 1;
  const c1 = 1 - beta1 ** t;
  const c2 = 1 - beta2 ** t;
  const m = new Array<number>(params.length);
  const v = new Array<number>(params.length);
  const next = new Array<number>(params.length);
  for (let i = 0; i < params.length; i++) {
    const g = gradient[i]!;
    m[i] = beta1 * state.m[i]! + (1 - beta1) * g;
    v[i] = beta2 * state.v[i]! + (1 - beta2) * g * g;
    next[i] = params[i]! - (lr * (scale?.[i] ?? 1) * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + epsilon);
  }
  return { params: next, state: { t, m, v } };
}

/** The Euclidean norm of a gradient. */
export function computeGradNorm(gradient: readonly number[]): number {
  let ss = 0;
  for (const g of gradient) ss += g * g;
  return Math.sqrt(ss);
}

/**
 * The gradient scaled down to norm `maxNorm` when it is longer (as PyTorch's
 * clip_grad_norm_); unchanged otherwise.
 */
export function computeClippedGradient(gradient: readonly number[], maxNorm: number): number[] {
  const norm = computeGradNorm(gradient);
  if (!(norm > maxNorm)) return [...gradient];
  const scale = maxNorm / (norm + 1e-6);
  return gradient.map((g) => g * scale);
}
