import type { RawImage } from '../encode/write-image.js';

/** A binary mask: one byte per pixel, 1 foreground and 0 background, row-major. */
export interface BinaryMask {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

/** Default binarization threshold for 8-bit masks stored as 0/255. */
export const DEFAULT_MASK_THRESHOLD = 128;

/**
 * Binarizes an 8-bit image: a pixel is foreground when its largest colour
 * sample (alpha ignored) is ≥ `threshold`, so white, red or any bright mask
 * colour counts. Use threshold 1 for masks stored as 0/1.
 */
export function toBinaryMask(image: RawImage, threshold: number = DEFAULT_MASK_THRESHOLD): BinaryMask {
  const { data, width, height, channels } = image;
  const n = width * height;
  if (data.length !== n * channels) throw new RangeError(`${data.length} samples do not make a ${width}×${height}×${channels} image`);
  const out = new Uint8Array(n);
  const colours = channels === 4 ? 3 : channels;
  for (let p = 0, i = 0; p < n; p++, i += channels) {
    let v = data[i] ?? 0;
    for (let c = 1; c < colours; c++) v = Math.max(v, data[i + c] ?? 0);
    out[p] = v >= threshold ? 1 : 0;
  }
  return { data: out, width, height };
}

/** Number of foreground pixels. */
export function computeForegroundCount(mask: BinaryMask): number {
  let count = 0;
  for (let i = 0; i < mask.data.length; i++) count += mask.data[i] === 0 ? 0 : 1;
  return count;
}
