import type { ImageSize, ManifestRecord } from '@differad/core';
import { computeCoverCrop } from './cover-crop.js';
import type { DatasetImageOps } from './dataset-image-ops.js';
import { toManifestPath } from './dataset-paths.js';
import { type ImportOutput, toStagedPath } from './import-run.js';
import type { PoolEntry } from './reference-pool.js';

/**
 * The reference half of a record whose target stays as it is: the chosen
 * normal image itself when it has the target's size; otherwise its cover
 * crop scaled to the target's size, written to `rel` under OUT (staged until the import succeeds), and
 * `reference_resized` saying from what. The target is never resized, so its
 * mask box holds in its own pixels.
 */
export async function toPairedReference<D>(
  best: PoolEntry<D>,
  targetSize: ImageSize,
  rel: string,
  output: ImportOutput,
  ops: DatasetImageOps<D>,
): Promise<Pick<ManifestRecord, 'reference' | 'reference_resized'>> {
  if (best.size.width === targetSize.width && best.size.height === targetSize.height)
    return { reference: toManifestPath(output.out, best.path) };
  const crop = computeCoverCrop(best.size, targetSize);
  await ops.cropResizeToFile(best.path, crop, targetSize, toStagedPath(output, rel));
  return {
    reference: rel,
    reference_resized: {
      from: toManifestPath(output.out, best.path),
      width: best.size.width,
      height: best.size.height,
      fit: 'cover',
      crop,
    },
  };
}
