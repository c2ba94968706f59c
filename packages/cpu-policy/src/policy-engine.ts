import {
  clampPolicyValue,
  computePolicyLogProb,
  createRng,
  formatPolicySample,
  type GaussianPolicy,
  type PolicySample,
  samplePolicy,
  toModelFrame,
} from '@differad/core';
import {
  type BoxParams,
  boxBlur,
  computeDifferenceMap,
  computeToleranceDifference,
  decodeImage,
  type DifferenceMap,
  findAnomalyBox,
} from '@differad/images';

/** One answer of the CPU policy: text in the differad format plus the log-probability of what was sampled. */
export interface PolicyAnswer {
  readonly text: string;
  readonly sample: PolicySample;
  /** log π(sample) under the policy the answer was drawn from, at the request's temperature. */
  readonly logprob: number;
}

/** The encoded images and sampling settings of one paired request. */
export interface PolicyRequest {
  readonly referenceImage: Uint8Array;
  readonly targetImage: Uint8Array;
  readonly n: number;
  readonly seed: number;
  readonly temperature: number;
}

/** The CPU policy's anomaly map of a pair (docs/method.md §11 baselines threshold it themselves). */
export interface AnomalyMap {
  /** Working size: the target's long side reduced to at most 160 pixels. */
  readonly width: number;
  readonly height: number;
  /** Translation (dx, dy), in working pixels, that aligned the target to the reference. */
  readonly shift: readonly [number, number];
  /** Row-major blurred difference in [0, 1], rounded to 4 decimals. */
  readonly map: readonly number[];
}

/** Largest alignment shift searched, in working pixels (the working image's long side is 160). */
const MAX_SHIFT = 4;

/** The bytes of a `data:image/…;base64,` URL. */
export function decodeDataUrl(url: string): Uint8Array {
  return Buffer.from(url.slice(url.indexOf(',') + 1), 'base64');
}

/** A policy value clamped to its range, or `fallback` when the policy has no such parameter (a file from before it existed). */
function valueOf(policy: GaussianPolicy, sample: PolicySample, name: string, fallback: number): number {
  const v = sample[name];
  return v === undefined || policy.params[name] === undefined ? fallback : clampPolicyValue(policy, name, v);
}

/** The detector's settings for one sampled parameter vector (pad is in percent of the long side). */
export function toBoxParams(policy: GaussianPolicy, sample: PolicySample): BoxParams {
  return {
    threshold: valueOf(policy, sample, 'threshold', 0.16),
    blur: valueOf(policy, sample, 'blur', 0),
    minAreaShare: 10 ** valueOf(policy, sample, 'min_area', -3),
    tolerance: valueOf(policy, sample, 'tolerance', 0),
    padShare: valueOf(policy, sample, 'pad', 0) / 100,
  };
}

/** The policy's means as a sample (what temperature 0 uses). */
function meansOf(policy: GaussianPolicy): PolicySample {
  return Object.fromEntries(Object.entries(policy.params).map(([k, p]) => [k, p.mean]));
}

/** The sample with each value rounded to the 6 decimals `formatPolicySample` writes. */
function roundSample(sample: PolicySample): PolicySample {
  return Object.fromEntries(Object.entries(sample).map(([k, v]) => [k, Number(v.toFixed(6))]));
}

/**
 * The answer text: the sampled parameters go into `<think>` (so a trainer can
 * read them back and score their log-probability), the box into `<answer>` in
 * norm1000, `(0,0),(0,0)` when nothing was found.
 */
function writeAnswer(sample: PolicySample, map: DifferenceMap, box: readonly [number, number, number, number] | null): string {
  const [dx, dy] = map.shift;
  const found = box === null ? 'no region differs enough from the reference' : 'one region differs from the reference';
  const answer = box === null ? '(0,0),(0,0)' : `(${box[0]},${box[1]}),(${box[2]},${box[3]})`;
  return `<think>Aligned the target to the reference by (${dx},${dy}). Parameters: ${formatPolicySample(sample)}. Result: ${found}.</think><answer>${answer}</answer>`;
}

async function decodePair(referenceImage: Uint8Array, targetImage: Uint8Array): Promise<DifferenceMap> {
  const [reference, target] = await Promise.all([
    decodeImage(referenceImage, { channels: 3, name: 'reference image' }),
    decodeImage(targetImage, { channels: 3, name: 'target image' }),
  ]);
  return computeDifferenceMap(reference, target, MAX_SHIFT);
}

/**
 * The anomaly map of a pair under the policy's means: the aligned difference
 * with the mean tolerance, blurred with the mean blur radius, before any threshold — what the
 * protocol of docs/method.md §11 calibrates a threshold on.
 */
export async function computeAnomalyMap(policy: GaussianPolicy, referenceImage: Uint8Array, targetImage: Uint8Array): Promise<AnomalyMap> {
  const diff = await decodePair(referenceImage, targetImage);
  const params = toBoxParams(policy, meansOf(policy));
  const blurred = boxBlur(computeToleranceDifference(diff, params.tolerance ?? 0), diff.width, diff.height, params.blur);
  return {
    width: diff.width,
    height: diff.height,
    shift: [diff.shift[0], diff.shift[1]],
    map: Array.from(blurred, (v) => Math.round(v * 1e4) / 1e4),
  };
}

/**
 * Answers one paired request with `n` completions: decode and align once,
 * then per completion sample detector parameters from the Gaussian policy
 * (the means at temperature 0), detect, and write the answer. Deterministic
 * in (seed, completion index).
 */
export async function answerPairRequest(policy: GaussianPolicy, request: PolicyRequest): Promise<PolicyAnswer[]> {
  const map = await decodePair(request.referenceImage, request.targetImage);
  const size = { width: map.targetWidth, height: map.targetHeight };
  const answers: PolicyAnswer[] = [];
  const differences = new Map<number, Float32Array>();
  for (let i = 0; i < request.n; i++) {
    const rng = createRng(`${request.seed}/${i}`);
    // Round as the text will show the values, so the trainer reading them back
    // scores exactly the sample that was used (on-policy ratio of exactly 1).
    const sample = roundSample(samplePolicy(rng, policy, request.temperature));
    const { box } = findAnomalyBox(map, toBoxParams(policy, sample), differences);
    const modelBox = box === null ? null : toModelFrame(box, 'norm1000', size);
    const logprob = request.temperature > 0 ? computePolicyLogProb(policy, sample, request.temperature) : 0;
    answers.push({ text: writeAnswer(sample, map, modelBox as [number, number, number, number] | null), sample, logprob });
  }
  return answers;
}
