import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DifferadError, mapBounded } from '@differad/core';
import type { DecodeLimits } from '../decode/open-image.js';
import {
  computeDescriptorSimilarity,
  computeImageDescriptor,
  DEFAULT_SIMILARITY_WEIGHTS,
  type ImageDescriptor,
  type SimilarityWeights,
} from './image-descriptor.js';

/** A descriptor with the id (usually the path) of its image. */
export interface DescriptorEntry {
  readonly id: string;
  readonly descriptor: ImageDescriptor;
}

/** One result of a similarity search. */
export interface SimilarityMatch {
  readonly id: string;
  /** Position of the entry in the searched list. */
  readonly index: number;
  readonly score: number;
}

/**
 * The k entries most similar to `query`, best first; ties go to the earlier
 * entry, so results are deterministic. O(n·k), which beats sorting for the
 * small k of reference retrieval (the paper kept the best of top-8).
 */
export function findMostSimilar(
  query: ImageDescriptor,
  entries: readonly DescriptorEntry[],
  k: number,
  weights: SimilarityWeights = DEFAULT_SIMILARITY_WEIGHTS,
): SimilarityMatch[] {
  if (!(Number.isInteger(k) && k >= 0)) throw new RangeError(`k must be an integer ≥ 0, got ${k}`);
  const top: SimilarityMatch[] = [];
  entries.forEach((entry, index) => {
    const score = computeDescriptorSimilarity(query, entry.descriptor, weights);
    if (top.length === k && (k === 0 || score <= (top[k - 1] as SimilarityMatch).score)) return;
    let at = top.length;
    while (at > 0 && (top[at - 1] as SimilarityMatch).score < score) at--;
    top.splice(at, 0, { id: entry.id, index, score });
    if (top.length > k) top.pop();
  });
  return top;
}

/** Options of the batch descriptor helpers. */
export interface DescriptorBatchOptions {
  /** Images decoded at once (default 4). */
  readonly concurrency?: number;
  readonly limits?: DecodeLimits;
}

/** Descriptors of image files, in the order given, with bounded concurrency; ids are the paths. */
export async function computeDescriptors(paths: readonly string[], options: DescriptorBatchOptions = {}): Promise<DescriptorEntry[]> {
  return mapBounded(paths, options.concurrency ?? 4, async (path) => ({
    id: path,
    descriptor: await computeImageDescriptor(path, options.limits ?? {}),
  }));
}

/** File extensions computeFolderDescriptors picks up (case-insensitive). */
export const IMAGE_EXTENSIONS = ['.jpg', '.jpeg', '.png', '.webp', '.tif', '.tiff'] as const;

/**
 * Descriptors of every image file in a folder (recursively unless told
 * otherwise), sorted by path so the result does not depend on the file
 * system's listing order.
 */
export async function computeFolderDescriptors(
  folder: string,
  options: DescriptorBatchOptions & { readonly recursive?: boolean } = {},
): Promise<DescriptorEntry[]> {
  let names: string[];
  try {
    const entries = await readdir(folder, { withFileTypes: true, recursive: options.recursive ?? true });
    names = entries
      .filter((e) => e.isFile() && IMAGE_EXTENSIONS.some((ext) => e.name.toLowerCase().endsWith(ext)))
      .map((e) => join(e.parentPath, e.name));
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new DifferadError(
      code === 'ENOENT' ? 'IMAGE_NOT_FOUND' : 'IMAGE_READ_FAILED',
      `${folder}: cannot list images (${code ?? String(cause)})`,
      {
        cause,
        details: { path: folder },
      },
    );
  }
  names.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return computeDescriptors(names, options);
}
