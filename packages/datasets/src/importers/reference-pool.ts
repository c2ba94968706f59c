import { type ImageSize, type Scored, selectTopK } from '@differad/core';
import type { DatasetImageOps } from './dataset-image-ops.js';
import { resolveInsideRoot, toManifestPath } from './dataset-paths.js';
import { type BadItems, type ImportCommonOptions, runItems } from './import-run.js';

/** A defect-free image that may serve as a reference. */
export interface PoolEntry<D> {
  readonly path: string;
  readonly size: ImageSize;
  readonly descriptor: D;
}

/** Top-k references kept in a record (`references_topk`), best first. */
export interface ReferenceChoice {
  readonly path: string;
  readonly similarity: number;
}

/** Default number of references kept per record (the paper retrieved the top 8). */
export const DEFAULT_TOP_K = 8;

/** Describes every candidate reference (which must lie inside `root`); corrupt ones become bad items and are left out of the pool. */
export async function describePool<D>(
  root: string,
  paths: readonly string[],
  ops: DatasetImageOps<D>,
  options: ImportCommonOptions,
  bad: BadItems,
  phase: string,
): Promise<PoolEntry<D>[]> {
  const described = await runItems(
    paths,
    options,
    bad,
    phase,
    (p) => p,
    async (path) => ({ path, ...(await ops.describe(await resolveInsideRoot(root, path))) }),
  );
  return described.filter((e): e is PoolEntry<D> => e !== undefined);
}

/** The `k` most similar pool entries to `query` (docs/method.md §10), best first. */
export function rankReferences<D>(pool: readonly PoolEntry<D>[], query: D, ops: DatasetImageOps<D>, k: number): Scored<PoolEntry<D>>[] {
  return selectTopK(pool, (entry) => ops.similarity(query, entry.descriptor), k);
}

/** The ranking as manifest data: paths relative to the manifest, similarity rounded to 4 decimals. */
export function toReferencesTopk<D>(manifestDir: string, ranked: readonly Scored<PoolEntry<D>>[]): ReferenceChoice[] {
  return ranked.map((r) => ({ path: toManifestPath(manifestDir, r.item.path), similarity: Math.round(r.score * 1e4) / 1e4 }));
}
