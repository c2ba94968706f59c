import { decodeImage } from '../decode/decode-image.js';
import type { DecodeLimits } from '../decode/open-image.js';
import type { ImageSource } from '../decode/read-source.js';
import type { RawImage } from '../encode/write-image.js';
import { type Rgb, toRgbImage } from './draw-boxes.js';

/** An image to draw: a file, encoded bytes, or raw 8-bit pixels. */
export type DrawSource = ImageSource | RawImage;

function isRawImage(source: DrawSource): source is RawImage {
  return typeof source === 'object' && !(source instanceof Uint8Array);
}

/** Decodes (or copies) a drawing source as RGB. */
export async function loadRgb(source: DrawSource, limits: DecodeLimits = {}): Promise<RawImage> {
  if (isRawImage(source)) return toRgbImage(source);
  return decodeImage(source, { ...limits, channels: 3 });
}

/** A new RGB canvas filled with `background`. */
export function createCanvas(width: number, height: number, background: Rgb): RawImage {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i += 3) {
    data[i] = background[0];
    data[i + 1] = background[1];
    data[i + 2] = background[2];
  }
  return { data, width, height, channels: 3 };
}

/** Copies an RGB image onto an RGB canvas at (left, top), clipped to the canvas. */
export function blit(canvas: RawImage, image: RawImage, left: number, top: number): void {
  const x0 = Math.max(0, left);
  const x1 = Math.min(canvas.width, left + image.width);
  if (x1 <= x0) return;
  for (let y = Math.max(0, top); y < Math.min(canvas.height, top + image.height); y++) {
    const from = ((y - top) * image.width + (x0 - left)) * 3;
    canvas.data.set(image.data.subarray(from, from + (x1 - x0) * 3), (y * canvas.width + x0) * 3);
  }
}
