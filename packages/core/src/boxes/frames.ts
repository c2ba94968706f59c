import { DifferadError } from '../errors/differad-error.js';
import { type Box, isEmptyBox } from './box.js';

/**
 * Coordinate frames of docs/method.md §2. Ground truth lives in `pixels`; models answer
 * in `norm1000` (Qwen2-VL, InternVL, Qwen3-VL) or `resized-pixels` (Qwen2.5-VL).
 */
export const FRAMES = ['pixels', 'norm1000', 'resized-pixels'] as const;
export type Frame = (typeof FRAMES)[number];

/** The Qwen-style resize settings; defaults are those of the research code. */
export interface ResizeOptions {
  readonly factor: number;
  readonly minPixels: number;
  readonly maxPixels: number;
}

export const DEFAULT_RESIZE: ResizeOptions = Object.freeze({
  factor: 28,
  minPixels: 3_136,
  maxPixels: 401_408,
});

/** A resize that keeps every image at its own size: factor 1 and no pixel bounds. */
export const IDENTITY_RESIZE: ResizeOptions = Object.freeze({ factor: 1, minPixels: 1, maxPixels: Number.MAX_SAFE_INTEGER });

/**
 * The resize that prepares images for a model answering in `frame`
 * (docs/method.md §2.2): the Qwen-style `resize` for `norm1000` and
 * `resized-pixels`, none for `pixels`, whose coordinates are those of the
 * original image.
 */
export function toFrameResize(frame: Frame, resize: ResizeOptions): ResizeOptions {
  return frame === 'pixels' ? IDENTITY_RESIZE : resize;
}

/** Qwen's processor refuses images more elongated than this. */
export const MAX_ASPECT_RATIO = 200;

export interface ImageSize {
  readonly width: number;
  readonly height: number;
}

/** Python's round(): halves go to the even neighbour, as the reference resize does. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The size a Qwen-style processor resizes an image to: each side a multiple of
 * `factor`, total pixels within [minPixels, maxPixels], aspect ratio kept.
 */
export function computeResizedSize(size: ImageSize, options: ResizeOptions = DEFAULT_RESIZE): ImageSize {
  const { width, height } = size;
  const { factor, minPixels, maxPixels } = options;
  if (!(width > 0 && height > 0)) {
    throw new DifferadError('FRAME_INVALID_SIZE', `image size must be positive, got ${width}×${height}`);
  }
  if (!(factor >= 1 && minPixels > 0 && maxPixels >= minPixels)) {
    throw new DifferadError(
      'FRAME_INVALID_RESIZE',
      `resize needs factor ≥ 1 and 0 < minPixels ≤ maxPixels, got factor ${factor}, min ${minPixels}, max ${maxPixels}`,
    );
  }
  if (Math.max(width, height) / Math.min(width, height) > MAX_ASPECT_RATIO) {
    throw new DifferadError(
      'FRAME_INVALID_SIZE',
      `aspect ratio of ${width}×${height} is above ${MAX_ASPECT_RATIO}; a Qwen-style processor refuses such images`,
    );
  }
  let h = Math.max(factor, roundHalfEven(height / factor) * factor);
  let w = Math.max(factor, roundHalfEven(width / factor) * factor);
  if (h * w > maxPixels) {
    const beta = Math.sqrt((height * width) / maxPixels);
    h = Math.max(factor, Math.floor(height / beta / factor) * factor);
    w = Math.max(factor, Math.floor(width / beta / factor) * factor);
  } else if (h * w < minPixels) {
    const beta = Math.sqrt(minPixels / (height * width));
    h = Math.ceil((height * beta) / factor) * factor;
    w = Math.ceil((width * beta) / factor) * factor;
  }
  return { width: w, height: h };
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

function checkSize(size: ImageSize): void {
  if (!(size.width > 0 && size.height > 0)) {
    throw new DifferadError('FRAME_INVALID_SIZE', `image size must be positive, got ${size.width}×${size.height}`);
  }
}

/** Widens a rounded span that collapsed to zero length to one unit, inside [0, max]. */
function keepSpan(lo: number, hi: number, max: number): [number, number] {
  if (hi > lo) return [lo, hi];
  return lo >= max ? [max - 1, max] : [lo, lo + 1];
}

/**
 * A pixel box of an image of `size` in the model `frame`, rounded to integers
 * as a model writes them. The empty box stays empty in every frame, and a
 * non-empty box never rounds to zero width or height (a tiny defect in a large
 * image stays a one-unit box instead of becoming "no anomaly").
 */
export function toModelFrame(box: Box, frame: Frame, size: ImageSize, resize: ResizeOptions = DEFAULT_RESIZE): Box {
  if (isEmptyBox(box) || frame === 'pixels') return box;
  checkSize(size);
  const r = frame === 'norm1000' ? { width: 1000, height: 1000 } : computeResizedSize(size, resize);
  const fx = (x: number) => clamp(Math.round((x * r.width) / size.width), 0, r.width);
  const fy = (y: number) => clamp(Math.round((y * r.height) / size.height), 0, r.height);
  const [x1, x2] = keepSpan(fx(box[0]), fx(box[2]), r.width);
  const [y1, y2] = keepSpan(fy(box[1]), fy(box[3]), r.height);
  return [x1, y1, x2, y2];
}

/** A model-frame box back in pixels of the original image (not rounded). */
export function toPixelFrame(box: Box, frame: Frame, size: ImageSize, resize: ResizeOptions = DEFAULT_RESIZE): Box {
  if (isEmptyBox(box) || frame === 'pixels') return box;
  checkSize(size);
  if (frame === 'norm1000') {
    return [(box[0] / 1000) * size.width, (box[1] / 1000) * size.height, (box[2] / 1000) * size.width, (box[3] / 1000) * size.height];
  }
  const r = computeResizedSize(size, resize);
  return [
    (box[0] * size.width) / r.width,
    (box[1] * size.height) / r.height,
    (box[2] * size.width) / r.width,
    (box[3] * size.height) / r.height,
  ];
}
