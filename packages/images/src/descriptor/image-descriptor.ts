import type { ImageSize } from '@differad/core';
import { type DecodeLimits, openImage, toDecodeError } from '../decode/open-image.js';
import type { ImageSource } from '../decode/read-source.js';
import { type RawImage, toSharp } from '../encode/write-image.js';
import type { Sharp } from 'sharp';

/** Side of the grey image descriptors are computed from. */
export const DESCRIPTOR_INPUT_SIZE = 64;
/** Side of the normalized thumbnail (32×32 = 1024 values). */
export const DESCRIPTOR_THUMBNAIL_SIZE = 32;
/** Gradient histogram cells per side: 4×4 cells of 16×16 pixels. */
export const DESCRIPTOR_CELLS = 4;
/** Unsigned orientation bins per cell (4·4·8 = 128 values). */
export const DESCRIPTOR_BINS = 8;

/**
 * A global image descriptor for "find the most similar defect-free image"
 * (docs/method.md §10): a small grey thumbnail normalized to zero mean and unit
 * variance, so a dot product is normalized cross-correlation (robust to
 * brightness and contrast changes), and a coarse histogram of gradient
 * orientations (HOG-like, L2-normalized) that captures layout and edges.
 */
export interface ImageDescriptor {
  readonly thumbnail: Float32Array;
  readonly gradients: Float32Array;
}

/** Weights of the two parts in computeDescriptorSimilarity. */
export interface SimilarityWeights {
  readonly thumbnail: number;
  readonly gradients: number;
}

/** Equal weight to appearance (NCC) and structure (gradients). */
export const DEFAULT_SIMILARITY_WEIGHTS: SimilarityWeights = Object.freeze({ thumbnail: 0.5, gradients: 0.5 });

function toThumbnail(grey: Uint8Array): Float32Array {
  const s = DESCRIPTOR_INPUT_SIZE;
  const t = DESCRIPTOR_THUMBNAIL_SIZE;
  const out = new Float32Array(t * t);
  let mean = 0;
  for (let y = 0; y < t; y++) {
    for (let x = 0; x < t; x++) {
      const i = 2 * y * s + 2 * x;
      const v = ((grey[i] as number) + (grey[i + 1] as number) + (grey[i + s] as number) + (grey[i + s + 1] as number)) / 4;
      out[y * t + x] = v;
      mean += v;
    }
  }
  mean /= out.length;
  let variance = 0;
  for (let i = 0; i < out.length; i++) variance += ((out[i] as number) - mean) ** 2;
  const std = Math.sqrt(variance / out.length);
  for (let i = 0; i < out.length; i++) out[i] = std > 1e-6 ? ((out[i] as number) - mean) / std : 0;
  return out;
}

function toGradientHistogram(grey: Uint8Array): Float32Array {
  const s = DESCRIPTOR_INPUT_SIZE;
  const cell = s / DESCRIPTOR_CELLS;
  const bins = DESCRIPTOR_BINS;
  const hist = new Float32Array(DESCRIPTOR_CELLS * DESCRIPTOR_CELLS * bins);
  for (let y = 1; y < s - 1; y++) {
    for (let x = 1; x < s - 1; x++) {
      const i = y * s + x;
      const gx = (grey[i + 1] as number) - (grey[i - 1] as number);
      const gy = (grey[i + s] as number) - (grey[i - s] as number);
      const magnitude = Math.hypot(gx, gy);
      if (magnitude === 0) continue;
      let angle = Math.atan2(gy, gx);
      if (angle < 0) angle += Math.PI;
      // Soft assignment to the two nearest bins (centres at (b + 0.5)·π/bins), wrapping at π.
      const pos = (angle / Math.PI) * bins - 0.5;
      const lo = Math.floor(pos);
      const frac = pos - lo;
      const base = (Math.floor(y / cell) * DESCRIPTOR_CELLS + Math.floor(x / cell)) * bins;
      hist[base + ((lo + bins) % bins)]! += magnitude * (1 - frac);
      hist[base + ((lo + 1) % bins)]! += magnitude * frac;
    }
  }
  let norm = 0;
  for (let i = 0; i < hist.length; i++) norm += (hist[i] as number) ** 2;
  norm = Math.sqrt(norm);
  if (norm > 0) for (let i = 0; i < hist.length; i++) hist[i] = (hist[i] as number) / norm;
  return hist;
}

/** The descriptor of a 64×64 grey image (DESCRIPTOR_INPUT_SIZE², row-major). Pure and deterministic. */
export function toImageDescriptor(grey: Uint8Array): ImageDescriptor {
  const n = DESCRIPTOR_INPUT_SIZE * DESCRIPTOR_INPUT_SIZE;
  if (grey.length !== n)
    throw new RangeError(`descriptor input must be ${DESCRIPTOR_INPUT_SIZE}×${DESCRIPTOR_INPUT_SIZE} grey, got ${grey.length} samples`);
  return { thumbnail: toThumbnail(grey), gradients: toGradientHistogram(grey) };
}

function isRawImage(source: ImageSource | RawImage): source is RawImage {
  return typeof source === 'object' && !(source instanceof Uint8Array);
}

async function toDescriptorInput(pipeline: Sharp): Promise<Uint8Array> {
  const s = DESCRIPTOR_INPUT_SIZE;
  const data = await pipeline
    .flatten({ background: '#ffffff' })
    .resize(s, s, { fit: 'fill', kernel: 'cubic' })
    .toColourspace('b-w')
    .raw({ depth: 'uchar' })
    .toBuffer();
  return new Uint8Array(data.buffer, data.byteOffset, data.length);
}

/** Computes the descriptor of an image file, encoded bytes or raw pixels (decoded with limits and orientation). */
export async function computeImageDescriptor(source: ImageSource | RawImage, limits: DecodeLimits = {}): Promise<ImageDescriptor> {
  if (isRawImage(source)) return toImageDescriptor(await toDescriptorInput(toSharp(source)));
  return (await describeImage(source, limits)).descriptor;
}

/** An image's displayed size and its descriptor, from one read. */
export interface DescribedImage {
  readonly size: ImageSize;
  readonly descriptor: ImageDescriptor;
}

/** Size (EXIF orientation applied) and descriptor of an image file or buffer, reading it once. */
export async function describeImage(source: ImageSource, limits: DecodeLimits = {}): Promise<DescribedImage> {
  const opened = await openImage(source, limits);
  try {
    const descriptor = toImageDescriptor(await toDescriptorInput(opened.pipeline()));
    return { size: { width: opened.info.width, height: opened.info.height }, descriptor };
  } catch (cause) {
    throw toDecodeError(cause, opened.label, opened.info.format);
  }
}

function dot(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError(`descriptor parts differ in length: ${a.length} vs ${b.length}`);
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] as number) * (b[i] as number);
  return s;
}

/**
 * Similarity of two descriptors: w_t·NCC(thumbnails) + w_g·cos(gradient
 * histograms). NCC is in [−1, 1], the cosine in [0, 1]; with the default
 * weights 1 means identical and higher is more similar.
 */
export function computeDescriptorSimilarity(
  a: ImageDescriptor,
  b: ImageDescriptor,
  weights: SimilarityWeights = DEFAULT_SIMILARITY_WEIGHTS,
): number {
  const ncc = dot(a.thumbnail, b.thumbnail) / a.thumbnail.length;
  const cos = dot(a.gradients, b.gradients);
  return weights.thumbnail * ncc + weights.gradients * cos;
}
