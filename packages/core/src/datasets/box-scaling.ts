import type { Box } from '../boxes/box.js';
import type { ImageSize } from '../boxes/frames.js';

const clamp = (x: number, lo: number, hi: number) => (x < lo ? lo : x > hi ? hi : x);

/**
 * A pixel box of an image of size `from` in pixels of the same image resized
 * to `to`. Edges are rounded outwards (floor the start, ceil the end) so the
 * scaled box still covers the whole defect, then clamped to the image; a box
 * never collapses below one pixel.
 */
export function toScaledBox(box: Box, from: ImageSize, to: ImageSize): Box {
  const sx = to.width / from.width;
  const sy = to.height / from.height;
  const x1 = clamp(Math.floor(box[0] * sx + 1e-9), 0, to.width - 1);
  const y1 = clamp(Math.floor(box[1] * sy + 1e-9), 0, to.height - 1);
  const x2 = clamp(Math.ceil(box[2] * sx - 1e-9), x1 + 1, to.width);
  const y2 = clamp(Math.ceil(box[3] * sy - 1e-9), y1 + 1, to.height);
  return [x1, y1, x2, y2];
}

/** A box in pixels of `crop` (a window of the source image), clipped to the window; null when outside it. */
export function toCroppedBox(box: Box, crop: Box): Box | null {
  const x1 = Math.max(box[0], crop[0]) - crop[0];
  const y1 = Math.max(box[1], crop[1]) - crop[1];
  const x2 = Math.min(box[2], crop[2]) - crop[0];
  const y2 = Math.min(box[3], crop[3]) - crop[1];
  return x2 > x1 && y2 > y1 ? [x1, y1, x2, y2] : null;
}

/**
 * A box of a derived record (`size` pixels, cut from `crop` of a source image
 * and resized to `size`) back in source pixels: the inverse of crop + resize,
 * so every manifest box can be traced to where it came from.
 */
export function toSourceBox(box: Box, crop: Box, size: ImageSize): Box {
  const sx = (crop[2] - crop[0]) / size.width;
  const sy = (crop[3] - crop[1]) / size.height;
  return [crop[0] + box[0] * sx, crop[1] + box[1] * sy, crop[0] + box[2] * sx, crop[1] + box[3] * sy];
}
