import type { Box, ImageSize } from '@differad/core';

/**
 * The window of an image of size `from` that a cover resize to `to` keeps:
 * one scale factor for both axes (so nothing is stretched), the side that
 * overflows cut evenly on both ends. Integer pixels: the window has `to`'s
 * aspect ratio up to rounding and spans `from` fully along the other side.
 */
export function computeCoverCrop(from: ImageSize, to: ImageSize): Box {
  // Compare from.width / from.height with to.width / to.height without dividing.
  if (from.width * to.height >= from.height * to.width) {
    const width = Math.min(from.width, Math.max(1, Math.round((from.height * to.width) / to.height)));
    const x1 = Math.floor((from.width - width) / 2);
    return [x1, 0, x1 + width, from.height];
  }
  const height = Math.min(from.height, Math.max(1, Math.round((from.width * to.height) / to.width)));
  const y1 = Math.floor((from.height - height) / 2);
  return [0, y1, from.width, y1 + height];
}
