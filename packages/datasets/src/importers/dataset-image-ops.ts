import type { Box, ImageSize } from '@differad/core';

/** Which mask foreground makes the box: the largest 8-connected component (docs/method.md §10) or all of it. */
export type MaskBoxMode = 'largest' | 'all';
export const MASK_BOX_MODES: readonly MaskBoxMode[] = ['largest', 'all'];

/** A decoded mask: its size and the tight box of its foreground (null when it has none). */
export interface MaskBox {
  readonly size: ImageSize;
  readonly box: Box | null;
}

/** One window to cut out of a source image and where to write it. */
export interface CropRequest {
  /** Pixel window `[x1, y1, x2, y2]` of the source. */
  readonly box: Box;
  readonly path: string;
}

/** An image's size and its similarity descriptor, from one decode. */
export interface DescribedImage<D> {
  readonly size: ImageSize;
  readonly descriptor: D;
}

/**
 * The image operations importers need, injected so that this package stays
 * free of any image library (adapters do not import each other; the CLI wires
 * an implementation backed by @differad/images). Every operation that decodes
 * throws a `DifferadError` naming the file (for example `IMAGE_DECODE_FAILED`)
 * on a corrupt or truncated image; importers turn it into a bad item.
 */
export interface DatasetImageOps<D> {
  /** Width and height from the file header (fast; does not prove the pixels decode). */
  readSize(path: string): Promise<ImageSize>;
  /** Decodes the whole image and returns its size: proves the file is usable. */
  checkImage(path: string): Promise<ImageSize>;
  /** Decodes `src` once and writes each window as its own image file (format by extension). */
  cropToFiles(src: string, crops: readonly CropRequest[]): Promise<void>;
  /** Writes the window `crop` of `src` scaled to exactly `size` at `dst` (a cover resize when `crop` has `size`'s aspect ratio). */
  cropResizeToFile(src: string, crop: Box, size: ImageSize, dst: string): Promise<void>;
  /** Binarizes a mask and returns its size and foreground box in `mode`. */
  readMaskBox(path: string, mode: MaskBoxMode): Promise<MaskBox>;
  /** Decodes an image and computes its similarity descriptor. */
  describe(path: string): Promise<DescribedImage<D>>;
  /** Similarity of two descriptors, higher = more alike. */
  similarity(a: D, b: D): number;
}
