import { readFile } from 'node:fs/promises';
import {
  type Box,
  type CalibrationSample,
  clampPolicyValue,
  DEFAULT_CPU_POLICY,
  type GaussianPolicy,
  type ManifestRecord,
  mapBounded,
} from '@differad/core';
import { computeAnomalyMap } from '@differad/cpu-policy';
import { resolveManifestPath } from '@differad/datasets';
import { computeConnectedComponents, findLargestComponent } from '@differad/images';

/** One pair's anomaly map at the working size, with what is needed to bring a box back to target pixels. */
export interface BaselineMap extends CalibrationSample {
  readonly id: string;
  readonly values: Float32Array;
  readonly width: number;
  readonly height: number;
  /** Translation (dx, dy), in working pixels, that aligned the target to the reference. */
  readonly shift: readonly [number, number];
  readonly targetWidth: number;
  readonly targetHeight: number;
}

/** The built-in CPU policy with its mean blur replaced by `blur` (working pixels), or unchanged. */
export function toBaselinePolicy(blur: number | undefined): GaussianPolicy {
  if (blur === undefined) return DEFAULT_CPU_POLICY;
  const params = DEFAULT_CPU_POLICY.params;
  return { ...DEFAULT_CPU_POLICY, params: { ...params, blur: { ...params.blur!, mean: blur } } };
}

/** The blur radius the policy's detector applies (its clamped mean). */
export function toPolicyBlur(policy: GaussianPolicy): number {
  return clampPolicyValue(policy, 'blur', policy.params.blur?.mean ?? 0);
}

/** The CPU policy's anomaly map of one manifest pair (docs/method.md §11), ground truth in target pixels. */
export async function computeBaselineMap(manifestPath: string, record: ManifestRecord, policy: GaussianPolicy): Promise<BaselineMap> {
  const [reference, target] = await Promise.all([
    readFile(resolveManifestPath(manifestPath, record.reference)),
    readFile(resolveManifestPath(manifestPath, record.target)),
  ]);
  const map = await computeAnomalyMap(policy, reference, target);
  return {
    id: record.id,
    values: Float32Array.from(map.map),
    width: map.width,
    height: map.height,
    shift: map.shift,
    targetWidth: record.width,
    targetHeight: record.height,
    truth: record.box === null ? null : (record.box as Box),
  };
}

/**
 * docs/method.md §11 map → box: the tight box, in target pixels, of the largest
 * 8-connected component of the map above `threshold`; null (normal) when
 * there is none. The box is taken back through the working scale and the
 * alignment shift as the CPU policy's detector does.
 */
export function toBaselineBox(map: BaselineMap, threshold: number): Box | null {
  const { width: w, height: h } = map;
  const mask = new Uint8Array(w * h);
  for (let i = 0; i < mask.length; i++) mask[i] = map.values[i]! > threshold ? 1 : 0;
  const largest = findLargestComponent(computeConnectedComponents({ data: mask, width: w, height: h }).components);
  if (largest === null) return null;
  const sx = map.targetWidth / w;
  const sy = map.targetHeight / h;
  const [dx, dy] = map.shift;
  const cx = (v: number) => Math.min(map.targetWidth, Math.max(0, v));
  const cy = (v: number) => Math.min(map.targetHeight, Math.max(0, v));
  const [x1, y1, x2, y2] = largest.box;
  const box: Box = [cx((x1 + dx) * sx), cy((y1 + dy) * sy), cx((x2 + dx) * sx), cy((y2 + dy) * sy)];
  return box[2] > box[0] && box[3] > box[1] ? box : null;
}

/** Computes every pair's map with `concurrency` pairs in flight (decoding overlaps), in manifest order. */
export async function computeBaselineMaps(
  manifestPath: string,
  records: readonly ManifestRecord[],
  policy: GaussianPolicy,
  options: { concurrency: number; onMap: (done: number) => void },
): Promise<BaselineMap[]> {
  return mapBounded(records, options.concurrency, (record) => computeBaselineMap(manifestPath, record, policy), {
    onSettled: options.onMap,
  });
}
